/**
 * Pull of a ~100 MB multi-layer image (the busybox rootfs plus three layers of half-compressible
 * content, gzip) from a local docker-registry (Debian's, on a free 127.0.0.1 port, pushed once by
 * skopeo) into an EMPTY store every run, interleaved, medians and ratios against podman in one run:
 *   - `skiff pull` (downloads and verifies; it does not unpack: layers unpack when a container first
 *     needs them),
 *   - `skiff pull` + the first `skiff run --rm --network none IMAGE true` (download + unpack + a run:
 *     the fair row against podman, which unpacks during its pull),
 *   - `podman pull --tls-verify=false` (overlay storage, --runtime runc, a throw-away root),
 *   - `skopeo copy --src-tls-verify=false docker://… oci:DIR` (download only, no unpack).
 *
 *   node bench/registry-pull.ts [iterations]
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

const ITERATIONS = Number(process.argv[2] ?? 5);
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

/** skiff with a fresh root and runroot per run, emptied by reset. */
function skiffRunners(work: string, runroot: string, ref: string): Runner[] {
  const root = path.join(work, 'skiff');
  // The runroot is short (under /run): the monitor's unix sockets live there.
  const env = { ...process.env, SKIFF_ROOT: root, SKIFF_RUNROOT: path.join(runroot, 's') };
  const reset = () => {
    rmSync(root, { recursive: true, force: true });
    rmSync(env.SKIFF_RUNROOT, { recursive: true, force: true });
  };
  return [
    { name: 'skiff pull (no unpack)', once: () => run(SKIFF, ['pull', '-q', ref], env), reset },
    {
      name: 'skiff pull + first run --rm (unpacks)',
      once: () => {
        run(SKIFF, ['pull', '-q', ref], env);
        run(SKIFF, ['run', '--rm', '--network', 'none', ref, 'true'], env);
      },
      reset,
    },
  ];
}

/** podman in a throw-away root (overlay storage, runc, cgroupfs), reset after every pull. */
function podmanRunner(work: string, runroot: string, ref: string, driver: 'overlay' | 'vfs'): Runner {
  work = path.join(work, `podman-${driver}`);
  mkdirSync(work);
  // podman refuses a runroot longer than 50 characters.
  const podmanRunroot = path.join(runroot, `p${driver[0]}`);
  const conf = path.join(work, 'containers.conf');
  writeFileSync(conf, '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n');
  const env = { ...process.env, CONTAINERS_CONF: conf };
  const base = [
    '--root',
    path.join(work, 'podman'),
    '--runroot',
    podmanRunroot,
    '--storage-driver',
    driver,
    '--runtime',
    'runc',
    '--cgroup-manager',
    'cgroupfs',
    '--events-backend',
    'none',
    '--tmpdir',
    path.join(work, 'podman-tmp'),
  ];
  return {
    name: `podman pull (${driver}, unpacks)`,
    once: () => run('podman', [...base, 'pull', '-q', '--tls-verify=false', ref], env),
    reset: () => {
      spawnSync('podman', [...base, 'system', 'reset', '--force'], { env, stdio: 'ignore' });
      rmSync(podmanRunroot, { recursive: true, force: true });
      for (const d of ['podman', 'podman-tmp']) rmSync(path.join(work, d), { recursive: true, force: true });
    },
  };
}

function skopeoRunner(work: string, ref: string): Runner {
  const dir = path.join(work, 'skopeo');
  return {
    name: 'skopeo copy to oci: (no unpack)',
    once: () =>
      run('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${ref}`, `oci:${dir}:bench`]),
    reset: () => rmSync(dir, { recursive: true, force: true }),
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
    report(
      `pull of ${what} from a local registry into an empty store, ${ITERATIONS} runs each, interleaved (median)`,
      await measureInterleaved(runners, ITERATIONS, 1),
      base,
    );
    console.log(
      "skiff's pull downloads and verifies only; its layers unpack when a container first needs them (the second row).",
    );
  } finally {
    for (const fn of afters.reverse()) await fn();
    work.cleanup();
    runroot.cleanup();
  }
}

await main();
