import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { type Digest, digestOf } from '../../src/image/index.ts';
import { tempDir } from './rootfs.ts';

export interface TestLayer {
  readonly tar: Buffer;
  readonly blob: Buffer;
  readonly diffId: Digest;
  readonly digest: Digest;
}

/**
 * A gzip layer holding the given files (name → content), archived by tar(1) with fixed order, times
 * and owners so that its bytes, and so its digests, are the same every run.
 */
export function makeLayer(t: { after: (fn: () => void) => void }, files: Record<string, string>): TestLayer {
  const dir = tempDir('skiff-layer-');
  t.after(dir.cleanup);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir.dir, name)), { recursive: true });
    writeFileSync(path.join(dir.dir, name), content);
  }
  const tar = execFileSync('tar', [
    '--sort=name',
    '--mtime=@0',
    '--owner=0',
    '--group=0',
    '-C',
    dir.dir,
    '-cf',
    '-',
    '.',
  ]);
  const blob = gzipSync(tar);
  return { tar, blob, diffId: digestOf(tar), digest: digestOf(blob) };
}
