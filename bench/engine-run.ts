/**
 * The engine end to end, against podman (Debian's, with runc: its default crun refuses this host's
 * hybrid cgroups) on the same busybox image, both with --network none, in one run:
 *   1. `run --rm IMAGE true`, interleaved, medians and the ratio;
 *   2. 50 containers (`run -d IMAGE sleep 600`) started 2 at a time, total time;
 *   3. the resident memory (VmRSS) of an idle container's monitor against conmon's.
 *
 *   node bench/engine-run.ts [iterations]
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { importBusybox, SKIFF } from '../test/helpers/engine.ts';
import { makeRootfs, tempDir } from '../test/helpers/rootfs.ts';
import { measureInterleaved, type Runner, report, which } from './lib.ts';

const ITERATIONS = Number(process.argv[2] ?? 20);
const BATCH = 50;
const PARALLEL = 2;
const IMAGE = 'localhost/skiff-busybox:latest';

interface Engine {
  name: string;
  /** argv prefix and environment that run this engine's CLI. */
  argv: string[];
  env: NodeJS.ProcessEnv;
}

function run(engine: Engine, args: string[]): string {
  const [cmd, ...pre] = engine.argv;
  const r = spawnSync(cmd!, [...pre, ...args], {
    encoding: 'utf8',
    env: engine.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.status !== 0) throw new Error(`${engine.name} ${args[0]} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

function runAsync(engine: Engine, args: string[]): Promise<void> {
  const [cmd, ...pre] = engine.argv;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd!, [...pre, ...args], { env: engine.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${engine.name}: ${stderr}`))));
  });
}

async function startMany(engine: Engine): Promise<number> {
  const start = process.hrtime.bigint();
  let next = 0;
  const worker = async () => {
    while (next < BATCH) {
      next++;
      await runAsync(engine, ['run', '-d', '--network', 'none', IMAGE, 'sleep', '600']);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const ids = run(engine, ['ps', '-aq']).split('\n').filter(Boolean);
  for (let i = 0; i < ids.length; i += 10) run(engine, ['rm', '-f', ...ids.slice(i, i + 10)]);
  return ms;
}

function rssKb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1] ?? Number.NaN);
}

function monitorRss(engine: Engine, runroot: string | undefined): number {
  const id = run(engine, ['run', '-d', '--network', 'none', IMAGE, 'sleep', '600']).trim();
  try {
    spawnSync('sleep', ['1']);
    const pid = runroot
      ? Number(readFileSync(path.join(runroot, 'shims', id, 'monitor.pid'), 'utf8'))
      : Number(run(engine, ['inspect', '-f', '{{.State.ConmonPid}}', id]).trim());
    return rssKb(pid);
  } finally {
    run(engine, ['rm', '-f', id]);
  }
}

async function main(): Promise<void> {
  const work = tempDir('skiff-bench-engine-', '/var/tmp');
  const runroot = tempDir('skiff-bench-run-', '/run');
  try {
    await importBusybox(work.dir, IMAGE);
    const skiff: Engine = {
      name: 'skiff',
      argv: [SKIFF],
      env: { ...process.env, SKIFF_ROOT: work.dir, SKIFF_RUNROOT: runroot.dir },
    };
    const engines: Engine[] = [skiff];
    if (which('podman') && which('runc')) {
      const conf = path.join(work.dir, 'containers.conf');
      writeFileSync(conf, '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n');
      const podman: Engine = {
        name: 'podman (runc)',
        argv: [
          'podman',
          '--root',
          path.join(work.dir, 'podman'),
          '--runroot',
          path.join(runroot.dir, 'podman'),
          '--runtime',
          'runc',
          '--cgroup-manager',
          'cgroupfs',
          '--events-backend',
          'none',
          '--tmpdir',
          path.join(runroot.dir, 'podman-tmp'),
        ],
        env: { ...process.env, CONTAINERS_CONF: conf },
      };
      const rootfs = makeRootfs(path.join(work.dir, 'rootfs'));
      const tar = path.join(work.dir, 'rootfs.tar');
      spawnSync('tar', ['-C', rootfs, '-cf', tar, '.']);
      run(podman, ['import', tar, IMAGE]);
      engines.push(podman);
    }
    const runners: Runner[] = engines.map((e) => ({
      name: e.name,
      once: () => {
        run(e, ['run', '--rm', '--network', 'none', IMAGE, 'true']);
      },
    }));
    const base = engines.length > 1 ? 'podman (runc)' : 'skiff';
    report(
      `run --rm ${IMAGE} true, ${ITERATIONS} runs each, interleaved (median)`,
      await measureInterleaved(runners, ITERATIONS),
      base,
    );
    const batch = [];
    for (const e of engines) batch.push({ name: e.name, median: await startMany(e) });
    report(`${BATCH} containers started ${PARALLEL} at a time (total)`, batch, base);
    const rss = engines.map((e) => ({
      name: `${e.name} monitor`,
      median: monitorRss(e, e === skiff ? runroot.dir : undefined) / 1024,
    }));
    report(
      "resident memory of an idle container's monitor (skiff-shim vs conmon)",
      rss,
      rss.at(-1)!.name,
      'MiB',
    );
    if (engines[1]) run(engines[1], ['system', 'reset', '--force']);
  } finally {
    work.cleanup();
    runroot.cleanup();
  }
}

await main();
