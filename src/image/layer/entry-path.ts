import { invalidArgument } from '../../common/index.ts';

/**
 * Entry names of a layer, as the archive says them and as they land in the layer directory. Pure
 * functions: the file system is touched elsewhere (tree-writer.ts), with these names only.
 */

/** The whiteout prefix of the OCI image spec (and AUFS before it). */
export const WHITEOUT_PREFIX = '.wh.';
/** The name that makes its directory opaque. */
export const OPAQUE_WHITEOUT = '.wh..wh..opq';

/**
 * The components of an entry name, relative to the layer root. A leading `/` and `./` are dropped
 * (archives made with `tar -C / .` or absolute names mean the same root); `.` components and empty ones
 * vanish. A `..` component is refused outright rather than resolved: no legitimate layer needs one, and
 * refusing is simpler to prove safe than clamping. An empty result is the root itself ([]).
 */
export function entryComponents(name: string, field = 'name'): string[] {
  if (name.includes('\0'))
    throw invalidArgument(`layer entry ${field} \`${printable(name)}\` contains a NUL byte`);
  const components: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw invalidArgument(`layer entry ${field} \`${printable(name)}\` contains \`..\``);
    components.push(part);
  }
  return components;
}

/** What an entry's last component asks for, by the OCI whiteout rules. */
export type EntryRole =
  | { kind: 'plain' }
  /** `<dir>/.wh..wh..opq`: the directory hides what lower layers have in it. */
  | { kind: 'opaque' }
  /** `<dir>/.wh.<name>`: `<name>` of lower layers is deleted. */
  | { kind: 'whiteout'; hidden: string }
  /** `.wh..wh.*` other than the opaque marker: AUFS bookkeeping (hard link stash), never extracted. */
  | { kind: 'aufs-metadata' };

export function entryRole(base: string): EntryRole {
  if (base === OPAQUE_WHITEOUT) return { kind: 'opaque' };
  if (!base.startsWith(WHITEOUT_PREFIX)) return { kind: 'plain' };
  if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return { kind: 'aufs-metadata' };
  const hidden = base.slice(WHITEOUT_PREFIX.length);
  if (hidden === '' || hidden === '.' || hidden === '..') {
    throw invalidArgument(`layer whiteout \`${base}\` names no file`);
  }
  return { kind: 'whiteout', hidden };
}

/** Whether `path` is `ancestor` or lies below it (both relative, `/`-joined). */
export function isSameOrBelow(path: string, ancestor: string): boolean {
  return ancestor === '' || path === ancestor || path.startsWith(`${ancestor}/`);
}

/** A name as it may be shown in an error: control characters escaped, long names shortened. */
export function printable(name: string): string {
  let shown = '';
  for (const c of name.length > 300 ? name.slice(0, 300) : name) {
    const code = c.charCodeAt(0);
    shown += code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, '0')}` : c;
  }
  return name.length > 300 ? `${shown}…` : shown;
}
