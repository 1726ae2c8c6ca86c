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
  /** A raw PAX header written before this entry, for binary values tar-stream's pack would re-encode. */
  rawPax?: Buffer;
}

/** Builds a tar archive in memory, entry by entry, exactly as given (hostile names included). */
export async function makeTar(entries: readonly TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const rawPax: Buffer[] = [];
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of pack as unknown as AsyncIterable<Buffer>) chunks.push(chunk);
  })();
  const add = (header: object, body: Buffer) =>
    new Promise<void>((resolve, reject) => {
      pack.entry(header as tar.Header, body, (err) => (err ? reject(err) : resolve()));
    });
  for (const e of entries) {
    if (e.rawPax)
      await add({ name: `${RAW_PAX_MARK}${rawPax.length}`, type: 'file', size: e.rawPax.length }, e.rawPax);
    if (e.rawPax) rawPax.push(e.rawPax);
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
    await add(header, content ?? Buffer.alloc(0));
  }
  pack.finalize();
  await done;
  const out = Buffer.concat(chunks);
  for (let i = 0; i < rawPax.length; i++) turnIntoPaxHeader(out, `${RAW_PAX_MARK}${i}`);
  return out;
}

const RAW_PAX_MARK = 'skiff-test-raw-pax-';

/** tar-stream's pack takes no body for a PAX header entry: a placeholder file's header is retyped `x`. */
function turnIntoPaxHeader(tarBuf: Buffer, name: string): void {
  const wanted = Buffer.from(`${name}\0`);
  for (let offset = 0; offset + 512 <= tarBuf.length; offset += 512) {
    if (!tarBuf.subarray(offset, offset + wanted.length).equals(wanted)) continue;
    tarBuf[offset + 156] = 'x'.charCodeAt(0);
    tarBuf.fill(' ', offset + 148, offset + 156);
    let sum = 0;
    for (let i = offset; i < offset + 512; i++) sum += tarBuf[i]!;
    tarBuf.write(`${sum.toString(8).padStart(6, '0')}\0 `, offset + 148, 'latin1');
    return;
  }
  throw new Error(`placeholder ${name} not found in the archive`);
}

export function streamOf(buf: Buffer): Readable {
  return Readable.from([buf]);
}

/** One PAX record, "<length> <key>=<value>\n", the value as raw bytes. */
export function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let length = body.length + 1;
  while (String(length).length + body.length !== length) length++;
  return Buffer.concat([Buffer.from(String(length)), body]);
}
