import { invalidArgument } from '../../common/index.ts';

const SCHILY_PREFIX = 'SCHILY.xattr.';

/**
 * The records of a PAX extended header, values as raw bytes. tar-stream decodes values as UTF-8,
 * which mangles binary xattrs such as `security.capability`; Go's archive/tar (Docker, containerd,
 * buildkit) writes them as raw bytes, so they are read again here from the header's own bytes.
 */
export function parsePaxRecords(buf: Buffer): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let rest = buf;
  while (rest.length > 0) {
    const space = rest.indexOf(0x20);
    const length = space > 0 ? Number(rest.subarray(0, space).toString('latin1')) : Number.NaN;
    // A record is "<length> <key>=<value>\n"; tar's NUL padding ends the list.
    if (!Number.isInteger(length) || length <= space + 1 || length > rest.length) break;
    const record = rest.subarray(space + 1, length - 1);
    const eq = record.indexOf(0x3d);
    if (eq > 0) records.set(record.subarray(0, eq).toString('utf8'), Buffer.from(record.subarray(eq + 1)));
    rest = rest.subarray(length);
  }
  return records;
}

/**
 * Namespaces an archive may set. `trusted.overlay.*` is never taken from an archive: those xattrs steer
 * overlayfs itself (opaque, redirect, metacopy), and a layer could use them to make the merged view
 * read another layer's files; skiff sets `trusted.overlay.opaque` only for `.wh..wh..opq`.
 * Other `system.*` names than POSIX ACLs are kernel interfaces, not file data.
 */
export function isArchiveXattrAllowed(name: string): boolean {
  if (name.startsWith('trusted.overlay.')) return false;
  return (
    name.startsWith('user.') ||
    name.startsWith('security.') ||
    name.startsWith('trusted.') ||
    name === 'system.posix_acl_access' ||
    name === 'system.posix_acl_default'
  );
}

/** The xattrs an entry carries (PAX `SCHILY.xattr.<name>`), limited to the namespaces allowed above. */
export function entryXattrs(records: Map<string, Buffer> | undefined): Map<string, Buffer> {
  const xattrs = new Map<string, Buffer>();
  if (!records) return xattrs;
  for (const [key, value] of records) {
    if (!key.startsWith(SCHILY_PREFIX)) continue;
    const name = key.slice(SCHILY_PREFIX.length);
    if (name.length === 0 || name.length > 255)
      throw invalidArgument(`layer xattr name \`${name}\` is invalid`);
    if (value.length > 65536) throw invalidArgument(`layer xattr \`${name}\` is larger than 64 KiB`);
    if (isArchiveXattrAllowed(name)) xattrs.set(name, value);
  }
  return xattrs;
}
