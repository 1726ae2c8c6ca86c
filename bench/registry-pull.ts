/**
 * Pull of a ~100 MB multi-layer image (the busybox rootfs plus three layers of half-compressible
 * content, gzip) from a local docker-registry (Debian's, on a free 127.0.0.1 port, pushed once by
 * skopeo) into an EMPTY store every run, interleaved, medians and ratios against podman in one run:
 *   - `skiff pull` (downloads, verifies and unpacks: the layers unpack as they arrive),
 *   - `skiff pull` + the first `skiff run --rm --network none IMAGE true` (the pull and a first
 *     container, which finds its layers unpacked),
 *   - `podman pull --tls-verify=false` (overlay storage, --runtime runc, a throw-away root),
 *   - `skopeo copy --src-tls-verify=false docker://… oci:DIR` (download only, no unpack).
 *
 *
 * Every run gets a fresh, empty root, and the roots are deleted only at the end (`--delete-between`:
 * after every run, as before). Deleting a ~5000-file store right before the next timed run made every
 * tool's file creation ~30× slower on this VM's ext4: its inode allocator checks each free inode for
 * a recent deletion (recently_deleted() in find_inode_bit, `perf record` shows it as 60% of the time),
 * which for a minute after a large rm walks thousands of freed inodes per new file. That measured the
 * file system's reaction to the benchmark's own clean-up, for all tools alike.
 *
 *   node bench/registry-pull.ts [iterations] [--delete-between]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { configFor, ociArchive } from '../test/helpers/archive.ts';
import { SKIFF } from '../test/helpers/engine.ts';
import { startRegistry } from '../test/helpers/registry.ts';
import { makeRootfs, tempDir } from '../test/helpers/rootfs.ts';
import { measureInterleaved, type Runner, report, which } from './lib.ts';

const ITERATIONS = Number(process.argv.slice(2).find((a) => !a.startsWith('-')) ?? 5);
const DELETE_BETWEEN = process.argv.includes('--delete-between');
/** Clean-ups deferred to the end (see the header). */
const leftovers: (() => void)[] = [];
function retire(fn: () => void): void {
  if (DELETE_BETWEEN) fn();
  else leftovers.push(fn);
}
const MB = 1024 * 1024;

/** Half-compressible content: a random half and a repeated half, as real binaries roughly are. */
function content(size: number): Buffer {
  const random = randomBytes(size >> 1);
  return Buffer.concat([random, Buffer.alloc(size - random.length, 'skiff ')]);
}

function tarOf(dir: string): Buffer {
  return execFileSync('tar', ['--sort=name', '--numeric-owner', '-C', dir, '-cf', '-', '.'], {
    maxBuffer: 1024 * MB,
  });
}

/** A layer of `small` files of 1-8 KiB in nested dirs and `large` files of `largeMb` each. */
function makeLayer(work: string, name: string, small: number, large: number, largeMb: number): Buffer {
  const dir = path.join(work, 'src', name);
  for (let i = 0; i < small; i++) {
    const sub = path.join(dir, `usr/share/${name}/d${i % 97}`);
    mkdirSync(sub, { recursive: true });
    writeFileSync(path.join(sub, `f${i}.txt`), content(1024 + ((i * 7919) % 7168)));
  }
  mkdirSync(path.join(dir, 'opt', name), { recursive: true });
  for (let i = 0; i < large; i++)
    writeFileSync(path.join(dir, 'opt', name, `big${i}.bin`), content(largeMb * MB));
  return tarOf(dir);
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (${r.status}): ${r.stderr.trim()}`);
}

/** Pushes the image once, by skopeo from an oci-archive (the gzip blobs go up as they are). */
async function pushImage(work: string, ref: string): Promise<string> {
  const layers = [
    tarOf(makeRootfs(path.join(work, 'rootfs'))),
    makeLayer(work, 'base', 3000, 2, 10),
    makeLayer(work, 'big', 0, 3, 15),
    makeLayer(work, 'app', 2000, 2, 10),
  ];
  const gz = layers.map((l) => gzipSync(l));
  const archive = path.join(work, 'image.tar');
  writeFileSync(
    archive,
    await ociArchive([{ layers, gzipLayers: gz, config: configFor(layers, ['sh']), name: 'bench' }]),
  );
  run('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci-archive:${archive}:bench`, `docker://${ref}`]);
  rmSync(path.join(work, 'src'), { recursive: true, force: true });
  const size = (n: number) => (n / MB).toFixed(1);
  return `${layers.length} layers, ${size(gz.reduce((n, l) => n + l.length, 0))} MB gzip (${size(layers.reduce((n, l) => n + l.length, 0))} MB unpacked)`;
}

/** skiff with a fresh root and runroot per run. */
function skiffRunners(work: string, runroot: string, ref: string): Runner[] {
  let n = 0;
  // The runroot is short (under /run): the monitor's unix sockets live there.
  const env = () => ({
    ...process.env,
    SKIFF_ROOT: path.join(work, `skiff-${n}`),
    SKIFF_RUNROOT: path.join(runroot, `s${n}`),
  });
  const reset = () => {
    const { SKIFF_ROOT: root, SKIFF_RUNROOT: rr } = env();
    retire(() => {
      rmSync(root, { recursive: true, force: true });
      rmSync(rr, { recursive: true, force: true });
    });
    n++;
  };
  return [
    { name: 'skiff pull (unpacks)', once: () => run(SKIFF, ['pull', '-q', ref], env()), reset },
    {
      name: 'skiff pull + first run --rm',
      once: () => {
        run(SKIFF, ['pull', '-q', ref], env());
        run(SKIFF, ['run', '--rm', '--network', 'none', ref, 'true'], env());
      },
      reset,
    },
  ];
}

/** podman in a throw-away root per run (overlay storage, runc, cgroupfs), reset afterwards. */
function podmanRunner(work: string, runroot: string, ref: string, driver: 'overlay' | 'vfs'): Runner {
  work = path.join(work, `podman-${driver}`);
  mkdirSync(work);
  let n = 0;
  const conf = path.join(work, 'containers.conf');
  writeFileSync(conf, '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n');
  const env = { ...process.env, CONTAINERS_CONF: conf };
  // podman refuses a runroot longer than 50 characters.
  const podmanRunroot = () => path.join(runroot, `p${driver[0]}${n}`);
  const base = () => [
    '--root',
    path.join(work, `podman-${n}`),
    '--runroot',
    podmanRunroot(),
    '--storage-driver',
    driver,
    '--runtime',
    'runc',
    '--cgroup-manager',
    'cgroupfs',
    '--events-backend',
    'none',
    '--tmpdir',
    path.join(work, `podman-tmp-${n}`),
  ];
  return {
    name: `podman pull (${driver}, unpacks)`,
    once: () => run('podman', [...base(), 'pull', '-q', '--tls-verify=false', ref], env),
    reset: () => {
      const [args, rr, i] = [base(), podmanRunroot(), n];
      retire(() => {
        spawnSync('podman', [...args, 'system', 'reset', '--force'], { env, stdio: 'ignore' });
        rmSync(rr, { recursive: true, force: true });
        for (const d of [`podman-${i}`, `podman-tmp-${i}`])
          rmSync(path.join(work, d), { recursive: true, force: true });
      });
      n++;
    },
  };
}

function skopeoRunner(work: string, ref: string): Runner {
  let n = 0;
  const dir = () => path.join(work, `skopeo-${n}`);
  return {
    name: 'skopeo copy to oci: (no unpack)',
    once: () =>
      run('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${ref}`, `oci:${dir()}:bench`]),
    reset: () => {
      const d = dir();
      retire(() => rmSync(d, { recursive: true, force: true }));
      n++;
    },
  };
}

async function main(): Promise<void> {
  const afters: (() => void | Promise<void>)[] = [];
  const work = tempDir('skiff-bench-pull-', '/var/tmp');
  const runroot = tempDir('sbp-', '/run');
  try {
    const registry = await startRegistry({ after: (fn) => afters.push(fn) });
    const ref = `${registry.host}/bench/pull:1`;
    console.log('generating and pushing the image…');
    const what = await pushImage(work.dir, ref);
    const runners = [...skiffRunners(work.dir, runroot.dir, ref)];
    if (which('podman') && which('runc'))
      runners.push(
        podmanRunner(work.dir, runroot.dir, ref, 'overlay'),
        podmanRunner(work.dir, runroot.dir, ref, 'vfs'),
      );
    if (which('skopeo')) runners.push(skopeoRunner(work.dir, ref));
    const base = runners.some((r) => r.name.startsWith('podman'))
      ? 'podman pull (overlay, unpacks)'
      : runners[0]!.name;
    const results = await measureInterleaved(runners, ITERATIONS, 1);
    report(
      `pull of ${what} from a local registry into an empty store, ${ITERATIONS} runs each, interleaved (median)${DELETE_BETWEEN ? ', stores deleted between runs' : ''}`,
      results,
      base,
    );
  } finally {
    for (const fn of leftovers) fn();
    for (const fn of afters.reverse()) await fn();
    work.cleanup();
    runroot.cleanup();
  }
}

await main();
