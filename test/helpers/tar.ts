import { Readable } from 'node:stream';
import tar from 'tar-stream';

/** One entry of a test archive: tar-stream's header (plus PAX records) and the file's bytes. */
export interface TarEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  content?: string | Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  pax?: Record<string, string>;
}

/** Builds a tar archive in memory, entry by entry, exactly as given (hostile names included). */
export async function makeTar(entries: readonly TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of pack as unknown as AsyncIterable<Buffer>) chunks.push(chunk);
  })();
  for (const e of entries) {
    const content = e.content === undefined ? undefined : Buffer.from(e.content);
    const header = {
      name: e.name,
      type: e.type ?? 'file',
      mode: e.mode ?? (e.type === 'directory' ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: e.mtime ?? new Date('2020-01-02T03:04:05Z'),
      linkname: e.linkname,
      devmajor: e.devmajor,
      devminor: e.devminor,
      size: content?.length ?? 0,
      pax: e.pax,
    };
    await new Promise<void>((resolve, reject) => {
      pack.entry(header as tar.Header, content ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export function streamOf(buf: Buffer): Readable {
  return Readable.from([buf]);
}
