/**
 * Create + start + wait + delete of a container running /bin/true, from one bundle, by:
 * runc and crun (Debian's, where they run), the skiff-runtime CLI, and the runtime library called
 * from this already-running Node process. Then exec of /bin/true into a running container, by the
 * same four. Prints medians and ratios against runc, all in one run.
 *
 *   node bench/runtime-lifecycle.ts [iterations]
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { Spec } from '../src/oci/index.ts';
import { Runtime } from '../src/runtime/index.ts';
import { makeBundle, uniqueId } from '../test/helpers/bundle.ts';
import { SKIFF_RUNTIME } from '../test/helpers/cli.ts';
import { tempDir } from '../test/helpers/rootfs.ts';
import { firstLine, measureInterleaved, type Result, type Runner, report, which } from './lib.ts';

const ITERATIONS = Number(process.argv[2] ?? 30);
const WARMUP = 3;

function cli(binary: string, root: string, bundle: string): () => void {
  return () => {
    const result = spawnSync(binary, ['--root', root, 'run', '--bundle', bundle, uniqueId('bench')], {
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
    });
    if (result.status !== 0)
      throw new Error(`${path.basename(binary)} failed: ${result.stderr || result.error}`);
  };
}

/** A running container (made by the CLI or the library) for `exec` to join; removed by `stop`. */
interface Target {
  exec: () => Promise<void> | void;
  stop: () => Promise<void> | void;
}

function cliTarget(binary: string, root: string, bundle: string): Target {
  const id = uniqueId('bench-exec');
  // The detached container inherits the runtime's stdio: a pipe would never reach EOF.
  const run = (args: string[], stderr: 'pipe' | 'ignore' = 'pipe') => {
    const result = spawnSync(binary, ['--root', root, ...args], {
      stdio: ['ignore', 'ignore', stderr],
      encoding: 'utf8',
    });
    if (result.status !== 0)
      throw new Error(
        `${path.basename(binary)} ${args[0]} failed: ${result.stderr || result.error || `status ${result.status}`}`,
      );
  };
  run(['run', '--detach', '--bundle', bundle, id], 'ignore');
  return { exec: () => run(['exec', id, '/bin/true']), stop: () => run(['delete', '--force', id]) };
}

async function libraryTarget(runtime: Runtime, bundle: string): Promise<Target> {
  const id = uniqueId('bench-exec');
  await runtime.create({ id, bundle, stdio: ['ignore', 'ignore', 'ignore'] });
  await runtime.start(id);
  const proc = await runtime.execProcessFor(id, { args: ['/bin/true'] });
  return {
    exec: async () => {
      const run = await runtime.exec(id, proc, { stdio: ['ignore', 'ignore', 'ignore'] });
      const status = await run.exit;
      if (status !== 0) throw new Error(`exec exited with ${status}`);
    },
    stop: () => runtime.delete(id, { force: true }),
  };
}

/** Starts each runtime's target container, times exec into them round-robin, and stops them. */
async function measureExecs(
  starters: { name: string; start: () => Promise<Target> | Target }[],
): Promise<Result[]> {
  const targets = new Map<string, Target>();
  const failed: Result[] = [];
  for (const { name, start } of starters) {
    try {
      targets.set(name, await start());
    } catch (err) {
      failed.push({ name, note: firstLine(err) });
    }
  }
  try {
    const measured = await measureInterleaved(
      [...targets].map(([name, t]) => ({ name, once: t.exec })),
      ITERATIONS,
      WARMUP,
    );
    return starters.map(({ name }) => [...measured, ...failed].find((r) => r.name === name)!);
  } finally {
    for (const t of targets.values()) await t.stop();
  }
}

function reportRuntimes(title: string, results: Result[]): void {
  report(`${title}, ${ITERATIONS} runs each, interleaved (median)`, results, 'runc');
}

// runc's own default version, which crun 1.8 also accepts (it refuses 1.3.0 before anything else).
const asRuncSpec = (spec: Spec) => {
  spec.ociVersion = '1.0.2-dev';
};
const bundle = makeBundle(['/bin/true'], asRuncSpec);
const sleeper = makeBundle(['/bin/sleep', '600'], asRuncSpec);
// State roots on tmpfs, where every runtime keeps them by default (/run/runc, /run/skiff).
const state = tempDir('skiff-bench-', '/run');
try {
  const peers = ['runc', 'crun'].map((name) => ({ name, binary: which(name) }));
  const runtime = new Runtime({ root: path.join(state.dir, 'lib') });
  const lifecycle: Runner[] = [
    ...peers.map(({ name, binary }) => ({
      name,
      once: binary
        ? cli(binary, path.join(state.dir, name), bundle.dir)
        : () => {
            throw new Error('not installed');
          },
    })),
    { name: 'skiff-runtime (CLI)', once: cli(SKIFF_RUNTIME, path.join(state.dir, 'cli'), bundle.dir) },
    {
      name: 'skiff runtime library (in-process)',
      once: async () => {
        const status = await runtime.run({
          id: uniqueId('bench'),
          bundle: bundle.dir,
          foreground: true,
          stdio: ['ignore', 'ignore', 'ignore'],
        });
        if (status !== 0) throw new Error(`container exited with ${status}`);
      },
    },
  ];
  reportRuntimes(
    'create+start+wait+delete of /bin/true',
    await measureInterleaved(lifecycle, ITERATIONS, WARMUP),
  );

  const execs = await measureExecs([
    ...peers.map(({ name, binary }) => ({
      name,
      start: () => {
        if (!binary) throw new Error('not installed');
        return cliTarget(binary, path.join(state.dir, name), sleeper.dir);
      },
    })),
    {
      name: 'skiff-runtime (CLI)',
      start: () => cliTarget(SKIFF_RUNTIME, path.join(state.dir, 'cli'), sleeper.dir),
    },
    { name: 'skiff runtime library (in-process)', start: () => libraryTarget(runtime, sleeper.dir) },
  ]);
  reportRuntimes('exec of /bin/true into a running container', execs);
} finally {
  bundle.cleanup();
  sleeper.cleanup();
  state.cleanup();
}
