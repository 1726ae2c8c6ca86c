/**
 * `host-mount` records: mounts the shim performs in the host's mount namespace before the init
 * exists, for a caller that hands the runtime its rootfs as mount specs (the engine's snapshot)
 * instead of a mounted directory. The specs are mount(8)-style, as containerd's: options are split
 * here into MS_* flags and the file system's data, by the same parser as the config's mounts.
 */
import { invalidArgument } from '../../common/index.ts';
import { MS } from './linux-constants.ts';
import { parseMountOptions } from './mount-options.ts';
import type { HostMount } from './types.ts';

/** One mount of the rootfs: `mount -t TYPE SOURCE ROOTFS -o OPTIONS`, performed in `cwd` when set. */
export interface RootfsMount {
  readonly type: string;
  readonly source: string;
  readonly options: readonly string[];
  /** Relative paths in the options (overlay's short lowerdir links) resolve here. */
  readonly cwd?: string | undefined;
}

export function hostMounts(mounts: readonly RootfsMount[], target: string): HostMount[] {
  return mounts.map((m, i) => {
    const where = `rootfsMounts[${i}]`;
    if (!m.type) throw invalidArgument(`${where}: type is required`);
    if (!m.source) throw invalidArgument(`${where}: source is required`);
    if (m.cwd !== undefined && !m.cwd.startsWith('/'))
      throw invalidArgument(`${where}: cwd \`${m.cwd}\` must be an absolute path`);
    const options = parseMountOptions(m.options, where);
    if (options.propagation.length > 0)
      throw invalidArgument(`${where}: propagation options do not apply to the rootfs mount`);
    const bind = m.type === 'bind' || (options.flags & MS.BIND) !== 0;
    return {
      target,
      type: bind ? '' : m.type,
      source: m.source,
      flags: bind ? options.flags | MS.BIND : options.flags,
      data: bind ? '' : options.data.join(','),
      cwd: m.cwd ?? '',
    };
  });
}
