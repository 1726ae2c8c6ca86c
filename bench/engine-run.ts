/**
 * The engine end to end, against podman (Debian's, with runc: its default crun refuses this host's
 * hybrid cgroups) on the same busybox image, both with --network none, in one run:
 *   1. `run --rm IMAGE true`, interleaved, medians and the ratio;
 *   2. 50 containers (`run -d IMAGE sleep 600`) started 2 at a time, total time;
 *   3. the resident memory (VmRSS) of an idle container's monitor against conmon's.
 *
 *   node bench/engine-run.ts [iterations]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { benchEngines, type Engine, IMAGE, run, startMany } from './engines.ts';
import { measureInterleaved, type Runner, report } from './lib.ts';

const ITERATIONS = Number(process.argv[2] ?? 20);
const BATCH = 50;
const PARALLEL = 2;

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
  const { engines, cleanup } = await benchEngines('skiff-bench-engine');
  try {
    const runners: Runner[] = engines.map((e) => ({
      name: e.name,
      once: () => {
        run(e, ['run', '--rm', '--network', 'none', IMAGE, 'true']);
      },
    }));
    const base = engines.some((e) => e.name.startsWith('podman')) ? 'podman (runc)' : 'skiff';
    report(
      `run --rm ${IMAGE} true, ${ITERATIONS} runs each, interleaved (median)`,
      await measureInterleaved(runners, ITERATIONS),
      base,
    );
    const batch = [];
    for (const e of engines)
      batch.push({
        name: e.name,
        median: await startMany(e, BATCH, PARALLEL, ['--network', 'none', IMAGE, 'sleep', '600']),
      });
    report(`${BATCH} containers started ${PARALLEL} at a time (total)`, batch, base);
    // The service changes nothing in a monitor: measured once, for the daemonless store.
    const rss = engines
      .filter((e) => e.name !== 'skiff (service)')
      .map((e) => ({ name: `${e.name} monitor`, median: monitorRss(e, e.runroot) / 1024 }));
    report(
      "resident memory of an idle container's monitor (skiff-shim vs conmon)",
      rss,
      rss.at(-1)!.name,
      'MiB',
    );
  } finally {
    cleanup();
  }
}

await main();
