import { invalidArgument, notImplemented } from '../../common/index.ts';
import { MS } from './linux-constants.ts';

/** What mount(8)-style options of one OCI mount come to, as runc's parseMountOptions reads them. */
export interface ParsedMountOptions {
  /** Flags for the mount(2) call itself. */
  flags: number;
  /** Propagation flags, each applied by a separate mount(2) call after the mount. */
  propagation: number[];
  /** Options the kernel does not know as flags: passed to the filesystem as its data string. */
  data: string[];
}

// [flag, set?]: an option either sets or clears its flag.
const FLAG_OPTIONS: Readonly<Record<string, readonly [number, boolean]>> = {
  async: [MS.SYNCHRONOUS, false],
  atime: [MS.NOATIME, false],
  bind: [MS.BIND, true],
  defaults: [0, true],
  dev: [MS.NODEV, false],
  diratime: [MS.NODIRATIME, false],
  dirsync: [MS.DIRSYNC, true],
  exec: [MS.NOEXEC, false],
  iversion: [MS.I_VERSION, true],
  lazytime: [MS.LAZYTIME, true],
  loud: [MS.SILENT, false],
  mand: [MS.MANDLOCK, true],
  noatime: [MS.NOATIME, true],
  nodev: [MS.NODEV, true],
  nodiratime: [MS.NODIRATIME, true],
  noexec: [MS.NOEXEC, true],
  noiversion: [MS.I_VERSION, false],
  nolazytime: [MS.LAZYTIME, false],
  nomand: [MS.MANDLOCK, false],
  norelatime: [MS.RELATIME, false],
  nostrictatime: [MS.STRICTATIME, false],
  nosuid: [MS.NOSUID, true],
  nosymfollow: [MS.NOSYMFOLLOW, true],
  rbind: [MS.BIND | MS.REC, true],
  relatime: [MS.RELATIME, true],
  remount: [MS.REMOUNT, true],
  ro: [MS.RDONLY, true],
  rw: [MS.RDONLY, false],
  silent: [MS.SILENT, true],
  strictatime: [MS.STRICTATIME, true],
  suid: [MS.NOSUID, false],
  symfollow: [MS.NOSYMFOLLOW, false],
  sync: [MS.SYNCHRONOUS, true],
};

const PROPAGATION_OPTIONS: Readonly<Record<string, number>> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

// Recursive attributes (mount_setattr) and id-mapped mounts are not performed by this runtime yet;
// refusing them is better than silently giving a weaker mount than the config asked for.
const UNSUPPORTED_OPTIONS = new Set([
  'rro',
  'rrw',
  'rnosuid',
  'rsuid',
  'rnodev',
  'rdev',
  'rnoexec',
  'rexec',
  'rnodiratime',
  'rdiratime',
  'rrelatime',
  'rnorelatime',
  'rnoatime',
  'ratime',
  'rstrictatime',
  'rnostrictatime',
  'rnosymfollow',
  'rsymfollow',
  'idmap',
  'ridmap',
]);

export function parseMountOptions(options: readonly string[], where: string): ParsedMountOptions {
  let flags = 0;
  const propagation: number[] = [];
  const data: string[] = [];
  for (const option of options) {
    const flag = FLAG_OPTIONS[option];
    if (flag) {
      flags = flag[1] ? flags | flag[0] : flags & ~flag[0];
    } else if (option in PROPAGATION_OPTIONS) {
      propagation.push(PROPAGATION_OPTIONS[option]!);
    } else if (UNSUPPORTED_OPTIONS.has(option)) {
      throw notImplemented(
        `${where}: mount option "${option}" is not supported by skiff-runtime yet; remove it`,
      );
    } else if (option === '') {
      throw invalidArgument(`${where}: empty mount option`);
    } else {
      data.push(option);
    }
  }
  return { flags, propagation, data };
}

/** The single propagation value of `linux.rootfsPropagation`. */
export function parsePropagation(value: string, where: string): number {
  const flags = PROPAGATION_OPTIONS[value];
  if (flags === undefined) {
    throw invalidArgument(
      `${where}: unknown propagation "${value}"; use one of ${Object.keys(PROPAGATION_OPTIONS).join(', ')}`,
    );
  }
  return flags;
}

/** Every mount option the compiler understands as a flag or a propagation (the features document). */
export function knownMountOptions(): string[] {
  return [...Object.keys(FLAG_OPTIONS), ...Object.keys(PROPAGATION_OPTIONS)].sort();
}
