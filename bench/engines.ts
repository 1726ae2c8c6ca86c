/**
 * The engines the end-to-end benchmarks compare, on the same busybox image in throw-away stores:
 * skiff, and podman (Debian's, with runc: its default crun refuses this host's hybrid cgroups).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { importBusybox, removeBridges, SKIFF } from '../test/helpers/engine.ts';
import { makeRootfs, tempDir } from '../test/helpers/rootfs.ts';
import { which } from './lib.ts';

export const IMAGE = 'localhost/skiff-busybox:latest';

export interface Engine {
  name: string;
  /** argv prefix and environment that run this engine's CLI. */
  argv: string[];
  env: NodeJS.ProcessEnv;
  /** skiff's run root (its monitors' directories), undefined for podman. */
  runroot?: string;
}

export function run(engine: Engine, args: string[]): string {
  const [cmd, ...pre] = engine.argv;
  const r = spawnSync(cmd!, [...pre, ...args], {
    encoding: 'utf8',
    env: engine.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.status !== 0) throw new Error(`${engine.name} ${args[0]} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

export function runAsync(engine: Engine, args: string[]): Promise<void> {
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

/** `run -d` of `count` containers, `parallel` at a time; their total time (ms); then removed. */
export async function startMany(
  engine: Engine,
  count: number,
  parallel: number,
  runArgs: string[],
): Promise<number> {
  const start = process.hrtime.bigint();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      await runAsync(engine, ['run', '-d', ...runArgs]);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const ids = run(engine, ['ps', '-aq']).split('\n').filter(Boolean);
  for (let i = 0; i < ids.length; i += 10) run(engine, ['rm', '-f', ...ids.slice(i, i + 10)]);
  return ms;
}

/** Starts `skiff system service` for the engine's store; resolves once it listens, with its stop. */
async function startService(engine: Engine): Promise<() => void> {
  const child = spawn(SKIFF, ['system', 'service'], { env: engine.env, stdio: 'ignore' });
  const socket = path.join(engine.runroot!, 'skiff.sock');
  for (let i = 0; i < 200 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 25));
  if (!existsSync(socket)) throw new Error('skiff system service did not start');
  return () => child.kill('SIGTERM');
}

/**
 * skiff (each command its own process), skiff with its resident service (`skiff system service`:
 * the CLI's native front hands each command to it) and, where installed, podman — each with the
 * image, in stores that `cleanup` removes.
 */
export async function benchEngines(prefix: string): Promise<{ engines: Engine[]; cleanup: () => void }> {
  const work = tempDir(`${prefix}-`, '/var/tmp');
  // Short: the monitors' attach sockets live under it (a unix socket path holds 107 bytes).
  const runroot = tempDir('sbr-', '/run');
  await importBusybox(work.dir, IMAGE);
  const skiff: Engine = {
    name: 'skiff',
    argv: [SKIFF],
    env: { ...process.env, SKIFF_ROOT: work.dir, SKIFF_RUNROOT: runroot.dir },
    runroot: runroot.dir,
  };
  const served = tempDir(`${prefix}-served-`, '/var/tmp');
  const servedRun = tempDir('sbs-', '/run');
  await importBusybox(served.dir, IMAGE);
  const skiffServed: Engine = {
    name: 'skiff (service)',
    argv: [SKIFF],
    env: { ...process.env, SKIFF_ROOT: served.dir, SKIFF_RUNROOT: servedRun.dir },
    runroot: servedRun.dir,
  };
  const stopService = await startService(skiffServed);
  const engines: Engine[] = [skiff, skiffServed];
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
  return {
    engines,
    cleanup: () => {
      const podman = engines.find((e) => e.name.startsWith('podman'));
      if (podman)
        spawnSync(podman.argv[0]!, [...podman.argv.slice(1), 'system', 'reset', '--force'], {
          env: podman.env,
          stdio: 'ignore',
        });
      stopService();
      for (const dir of [work, served]) {
        removeBridges(dir.dir);
        dir.cleanup();
      }
      runroot.cleanup();
      servedRun.cleanup();
    },
  };
}
