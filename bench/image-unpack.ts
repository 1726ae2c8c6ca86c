/**
 * Unpack throughput of a ~100 MB multi-layer image (many small files and a few large ones, made here
 * in a temporary directory, gzip layers in an oci-archive): skiff's loadArchive + ensureLayers into a
 * fresh store, against `tar -xzf` of the same layers and `podman load` of the same archive (its
 * overlay storage, fresh each run), interleaved, medians and ratios in one run; then the time of a
 * second image that shares the base layers (it should cost only its own layer).
 *
 *   node bench/image-unpack.ts [iterations]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { ImageStore, LayerStore, loadArchive } from '../src/image/index.ts';
import { configFor, ociArchive } from '../test/helpers/archive.ts';
import { median } from './lib.ts';

const ITERATIONS = Number(process.argv[2] ?? 3);
const work = mkdtempSync(path.join(tmpdir(), 'skiff-bench-unpack-'));
const MB = 1024 * 1024;

/** Half-compressible content: a random half and a repeated half, as real binaries roughly are. */
function content(size: number): Buffer {
  const random = randomBytes(size >> 1);
  return Buffer.concat([random, Buffer.alloc(size - random.length, 'skiff ')]);
}

/** A layer dir of `small` files of 1-8 KiB in nested dirs and `large` files of `largeMb` each. */
function makeLayer(name: string, small: number, large: number, largeMb: number): { tar: Buffer; gz: Buffer } {
  const dir = path.join(work, 'src', name);
  for (let i = 0; i < small; i++) {
    const sub = path.join(dir, `usr/share/${name}/d${i % 97}/e${i % 13}`);
    mkdirSync(sub, { recursive: true });
    writeFileSync(path.join(sub, `f${i}.txt`), content(1024 + ((i * 7919) % 7168)));
  }
  mkdirSync(path.join(dir, 'opt', name), { recursive: true });
  for (let i = 0; i < large; i++)
    writeFileSync(path.join(dir, 'opt', name, `big${i}.bin`), content(largeMb * MB));
  const tar = execFileSync('tar', ['--sort=name', '--numeric-owner', '-C', dir, '-cf', '-', '.'], {
    maxBuffer: 1024 * MB,
  });
  return { tar, gz: gzipSync(tar) };
}

async function time(fn: () => Promise<void> | void): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function podman(root: string, args: string[]) {
  const r = spawnSync(
    'podman',
    [
      '--root',
      path.join(root, 'storage'),
      '--runroot',
      path.join(root, 'run'),
      '--storage-driver',
      'overlay',
      ...args,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`podman ${args.join(' ')}: ${r.stderr.trim().split('\n').at(-1)}`);
}

async function main(): Promise<void> {
  console.log('generating layers…');
  const layers = [makeLayer('base', 10000, 0, 0), makeLayer('big', 0, 3, 15), makeLayer('app', 2000, 1, 10)];
  const extra = makeLayer('second', 500, 0, 0);
  const tars = layers.map((l) => l.tar);
  const size = tars.reduce((n, t) => n + t.length, 0);
  const gzSize = layers.reduce((n, l) => n + l.gz.length, 0);
  // The archive carries gzip layers, as a registry's would.
  const gzImage = async (ls: { tar: Buffer; gz: Buffer }[], name: string) => {
    const archive = await ociArchive([
      { layers: ls.map((l) => l.tar), config: configFor(ls.map((l) => l.tar)), name },
    ]);
    return archive;
  };
  const archiveA = path.join(work, 'a.tar');
  writeFileSync(archiveA, await gzImage(layers, 'localhost/bench-a:1'));
  const archiveB = path.join(work, 'b.tar');
  writeFileSync(archiveB, await gzImage([layers[0]!, layers[1]!, extra], 'localhost/bench-b:1'));
  const gzFiles = layers.map((l, i) => {
    const file = path.join(work, `layer${i}.tar.gz`);
    writeFileSync(file, l.gz);
    return file;
  });
  console.log(
    `image: ${layers.length} layers, ${(size / MB).toFixed(1)} MB uncompressed (${(gzSize / MB).toFixed(1)} MB gzip), 12003 files`,
  );

  const runs: Record<string, number[]> = { skiff: [], skiffUnpackOnly: [], tar: [], podman: [], second: [] };
  const notes: Record<string, string> = {};
  for (let i = 0; i < ITERATIONS; i++) {
    const root = mkdtempSync(path.join(work, 'skiff-'));
    const store = await ImageStore.open({ root });
    const layerStore = new LayerStore(store);
    let unpack = 0;
    runs.skiff!.push(
      await time(async () => {
        const [a] = await loadArchive(store, archiveA);
        unpack = await time(async () => void (await layerStore.ensureLayers(store.resolve(a!.id))));
      }),
    );
    runs.skiffUnpackOnly!.push(unpack);
    runs.second!.push(
      await time(async () => {
        const [b] = await loadArchive(store, archiveB);
        await layerStore.ensureLayers(store.resolve(b!.id));
      }),
    );
    store.close();
    rmSync(root, { recursive: true, force: true });

    const tarRoot = mkdtempSync(path.join(work, 'tar-'));
    runs.tar!.push(
      await time(() => {
        gzFiles.forEach((file, j) => {
          const dir = path.join(tarRoot, String(j));
          mkdirSync(dir);
          execFileSync('tar', ['--numeric-owner', '-xzf', file, '-C', dir]);
        });
      }),
    );
    rmSync(tarRoot, { recursive: true, force: true });

    if (!notes.podman) {
      const podmanRoot = mkdtempSync(path.join(work, 'podman-'));
      try {
        runs.podman!.push(await time(() => podman(podmanRoot, ['load', '-q', '-i', archiveA])));
      } catch (err) {
        notes.podman = (err as Error).message;
      } finally {
        spawnSync(
          'podman',
          [
            '--root',
            path.join(podmanRoot, 'storage'),
            '--runroot',
            path.join(podmanRoot, 'run'),
            '--storage-driver',
            'overlay',
            'system',
            'reset',
            '--force',
          ],
          { stdio: 'ignore' },
        );
        rmSync(podmanRoot, { recursive: true, force: true });
      }
    }
  }

  const tarMedian = median(runs.tar!);
  const row = (name: string, key: string, what: string) => {
    if (notes[key]) return console.log(`${name.padEnd(40)} ${notes[key]}`);
    const m = median(runs[key]!);
    console.log(
      `${name.padEnd(40)} ${m.toFixed(0).padStart(7)} ms  ${((size / MB / m) * 1000).toFixed(0).padStart(5)} MB/s  ${(m / tarMedian).toFixed(2)}x tar  ${what}`,
    );
  };
  console.log(`\nmedians of ${ITERATIONS} (interleaved):`);
  row('tar -xzf (the layers, one by one)', 'tar', '');
  row('skiff loadArchive + ensureLayers', 'skiff', '(verify + ingest + unpack)');
  row('  of which ensureLayers', 'skiffUnpackOnly', '(unpack + diffID verify)');
  row('podman load (overlay storage)', 'podman', '');
  const second = median(runs.second!);
  console.log(
    `second image sharing 2 base layers: ${second.toFixed(0)} ms (its own layer: ${(extra.tar.length / MB).toFixed(1)} MB; ${((second / median(runs.skiff!)) * 100).toFixed(0)}% of the first)`,
  );
}

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}
