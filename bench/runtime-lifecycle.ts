/**
 * Create + start + wait + delete of a container running /bin/true, from one bundle, by:
 * runc and crun (Debian's, where they run), the skiff-runtime CLI, and the runtime library called
 * from this already-running Node process. Then exec of /bin/true into a running container, by the
 * same four. Prints medians and ratios against runc, all in one run.
 *
 *   node bench/runtime-lifecycle.ts [iterations]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Runtime } from '../src/runtime/index.ts';
import { makeBundle, uniqueId } from '../test/helpers/bundle.ts';
import { SKIFF_RUNTIME } from '../test/helpers/cli.ts';
import { tempDir } from '../test/helpers/rootfs.ts';

const ITERATIONS = Number(process.argv[2] ?? 30);
const WARMUP = 3;

interface Result {
  name: string;
  median?: number;
  note?: string;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function measure(name: string, once: () => Promise<void> | void): Promise<Result> {
  try {
    for (let i = 0; i < WARMUP; i++) await once();
    const times: number[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      const start = process.hrtime.bigint();
      await once();
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    return { name, median: median(times) };
  } catch (err) {
    return { name, note: (err as Error).message.split('\n')[0] };
  }
}

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

function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
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

async function measureExec(name: string, start: () => Promise<Target> | Target): Promise<Result> {
  let target: Target;
  try {
    target = await start();
  } catch (err) {
    return { name, note: (err as Error).message.split('\n')[0] };
  }
  try {
    return await measure(name, target.exec);
  } finally {
    await target.stop();
  }
}

function report(title: string, results: Result[]): void {
  const runc = results.find((r) => r.name === 'runc')?.median;
  console.log(`${title}, ${ITERATIONS} runs each (median)`);
  for (const r of results) {
    const ratio = r.median !== undefined && runc ? `${(r.median / runc).toFixed(2)}× runc` : '';
    const figure = r.median !== undefined ? `${r.median.toFixed(1)} ms` : `— (${r.note})`;
    console.log(`  ${r.name.padEnd(36)} ${figure.padStart(10)}  ${ratio}`);
  }
}

const bundle = makeBundle(['/bin/true']);
const sleeper = makeBundle(['/bin/sleep', '600']);
const state = tempDir('skiff-bench-');
try {
  const results: Result[] = [];
  for (const peer of ['runc', 'crun']) {
    const binary = which(peer);
    results.push(
      binary
        ? await measure(peer, cli(binary, path.join(state.dir, peer), bundle.dir))
        : { name: peer, note: 'not installed' },
    );
  }
  results.push(
    await measure('skiff-runtime (CLI)', cli(SKIFF_RUNTIME, path.join(state.dir, 'cli'), bundle.dir)),
  );
  const runtime = new Runtime({ root: path.join(state.dir, 'lib') });
  results.push(
    await measure('skiff runtime library (in-process)', async () => {
      const status = await runtime.run({
        id: uniqueId('bench'),
        bundle: bundle.dir,
        foreground: true,
        stdio: ['ignore', 'ignore', 'ignore'],
      });
      if (status !== 0) throw new Error(`container exited with ${status}`);
    }),
  );

  report('create+start+wait+delete of /bin/true', results);

  const execs: Result[] = [];
  for (const peer of ['runc', 'crun']) {
    const binary = which(peer);
    execs.push(
      binary
        ? await measureExec(peer, () => cliTarget(binary, path.join(state.dir, peer), sleeper.dir))
        : { name: peer, note: 'not installed' },
    );
  }
  execs.push(
    await measureExec('skiff-runtime (CLI)', () =>
      cliTarget(SKIFF_RUNTIME, path.join(state.dir, 'cli'), sleeper.dir),
    ),
  );
  execs.push(
    await measureExec('skiff runtime library (in-process)', () => libraryTarget(runtime, sleeper.dir)),
  );
  report('exec of /bin/true into a running container', execs);
} finally {
  bundle.cleanup();
  sleeper.cleanup();
  state.cleanup();
}
