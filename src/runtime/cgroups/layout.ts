import { readFileSync } from 'node:fs';
import path from 'node:path';
import { failedPrecondition, syscallError } from '../../common/index.ts';

/** One mounted cgroup hierarchy. */
export interface Hierarchy {
  version: 1 | 2;
  /** Where the hierarchy is mounted, e.g. `/sys/fs/cgroup/memory`. */
  mountpoint: string;
  /** The cgroup the mount shows at its mountpoint (mountinfo's root field; `/` unless bind-mounted from deeper). */
  root: string;
  /**
   * v1: the controllers bound to it (`['cpu', 'cpuacct']` when co-mounted, `['name=systemd']` for a named one);
   * v2: the controllers the root offers in `cgroup.controllers`.
   */
  controllers: string[];
  /** The calling process's cgroup in this hierarchy, relative to the mountpoint (`/` at the mount's root). */
  ownPath: string;
  /** Stable name for records: the v1 controller list joined by `,` (`cpu,cpuacct`), or `unified` for v2. */
  key: string;
}

export type LayoutKind = 'v1' | 'v2' | 'hybrid';

export interface CgroupLayout {
  kind: LayoutKind;
  hierarchies: Hierarchy[];
}

export interface LayoutSources {
  /** Text of /proc/self/mountinfo. */
  mountinfo: string;
  /** Text of /proc/self/cgroup. */
  procCgroup: string;
  /** Text of `cgroup.controllers` at the root of each cgroup2 mount, by mountpoint. */
  v2Controllers?: Readonly<Record<string, string>>;
}

interface CgroupMount {
  device: string;
  root: string;
  mountpoint: string;
  fstype: 'cgroup' | 'cgroup2';
  superOptions: string[];
}

/** Mount options of a v1 cgroup superblock that are not controllers. */
const V1_NON_CONTROLLER_OPTIONS = new Set([
  'rw',
  'ro',
  'xattr',
  'noprefix',
  'clone_children',
  'cpuset_v2_mode',
  'none',
  'all',
]);

/** Parses the layout of cgroup hierarchies from /proc/self/mountinfo and /proc/self/cgroup (pure). */
export function parseCgroupLayout(sources: LayoutSources): CgroupLayout {
  const ownPaths = parseProcCgroup(sources.procCgroup);
  const seenDevices = new Set<string>();
  const hierarchies: Hierarchy[] = [];
  for (const mount of parseCgroupMounts(sources.mountinfo)) {
    // A hierarchy mounted twice (bind mounts) is one hierarchy: one superblock, one device number.
    if (seenDevices.has(mount.device)) continue;
    seenDevices.add(mount.device);
    if (mount.fstype === 'cgroup2') {
      const text = sources.v2Controllers?.[mount.mountpoint] ?? '';
      const own = ownPaths.find((line) => line.controllers.length === 0);
      hierarchies.push({
        version: 2,
        mountpoint: mount.mountpoint,
        root: mount.root,
        controllers: text.split(/\s+/).filter((name) => name !== ''),
        ownPath: relativeToRoot(own?.path ?? '/', mount.root),
        key: 'unified',
      });
      continue;
    }
    const options = new Set(mount.superOptions);
    // The process's line for this hierarchy names exactly its controllers; prefer the largest match.
    let match: { controllers: string[]; path: string } | undefined;
    for (const line of ownPaths) {
      if (line.controllers.length === 0 || !line.controllers.every((name) => options.has(name))) continue;
      if (!match || line.controllers.length > match.controllers.length) match = line;
    }
    const controllers =
      match?.controllers ??
      mount.superOptions.filter((option) => !V1_NON_CONTROLLER_OPTIONS.has(option) && !option.includes('='));
    if (!match) {
      const name = mount.superOptions.find((option) => option.startsWith('name='));
      if (name) controllers.push(name);
    }
    if (controllers.length === 0) continue;
    hierarchies.push({
      version: 1,
      mountpoint: mount.mountpoint,
      root: mount.root,
      controllers,
      ownPath: relativeToRoot(match?.path ?? '/', mount.root),
      key: controllers.join(','),
    });
  }
  const hasV1 = hierarchies.some((h) => h.version === 1);
  const hasV2 = hierarchies.some((h) => h.version === 2);
  if (!hasV1 && !hasV2) {
    throw failedPrecondition(
      'no cgroup filesystem is mounted (none in /proc/self/mountinfo): mount cgroup2 at /sys/fs/cgroup',
    );
  }
  return { kind: hasV1 && hasV2 ? 'hybrid' : hasV1 ? 'v1' : 'v2', hierarchies };
}

function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const separator = fields.indexOf('-', 6);
    if (separator < 0) continue;
    const fstype = fields[separator + 1];
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    mounts.push({
      device: fields[2] ?? '',
      root: unescapeMountField(fields[3] ?? '/'),
      mountpoint: unescapeMountField(fields[4] ?? ''),
      fstype,
      superOptions: (fields[separator + 3] ?? '').split(','),
    });
  }
  return mounts;
}

/** mountinfo escapes space, tab, newline and backslash as three octal digits. */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

function parseProcCgroup(text: string): { controllers: string[]; path: string }[] {
  const lines: { controllers: string[]; path: string }[] = [];
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const list = line.slice(first + 1, second);
    lines.push({ controllers: list === '' ? [] : list.split(','), path: line.slice(second + 1) });
  }
  return lines;
}

/** The process's cgroup as seen below a mount whose root is `root`; `/` when it lies outside it. */
function relativeToRoot(cgroupPath: string, root: string): string {
  if (root === '/') return path.posix.normalize(cgroupPath);
  if (cgroupPath === root) return '/';
  if (cgroupPath.startsWith(`${root}/`)) return cgroupPath.slice(root.length);
  return '/';
}

let cached: Promise<CgroupLayout> | undefined;

/** The layout of this machine, read once from /proc/self (pass `refresh` to read it again). */
export function loadCgroupLayout(options: { refresh?: boolean } = {}): Promise<CgroupLayout> {
  if (!cached || options.refresh) {
    const loading = readCgroupLayout();
    // A failed read is not remembered, so a later call can try again.
    loading.catch(() => {
      if (cached === loading) cached = undefined;
    });
    cached = loading;
  }
  return cached;
}

/** The name the runtime's lifecycle uses: this machine's layout, read once. */
export const detectLayout = (): Promise<CgroupLayout> => loadCgroupLayout();

async function readCgroupLayout(): Promise<CgroupLayout> {
  const [mountinfo, procCgroup] = await Promise.all([
    readProcFile('/proc/self/mountinfo'),
    readProcFile('/proc/self/cgroup'),
  ]);
  const v2Controllers: Record<string, string> = {};
  for (const mount of parseCgroupMounts(mountinfo)) {
    if (mount.fstype !== 'cgroup2' || mount.mountpoint in v2Controllers) continue;
    v2Controllers[mount.mountpoint] = await readProcFile(path.join(mount.mountpoint, 'cgroup.controllers'));
  }
  return parseCgroupLayout({ mountinfo, procCgroup, v2Controllers });
}

async function readProcFile(file: string): Promise<string> {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw syscallError('read', file, err);
  }
}

/** The hierarchy that holds a controller: a v1 one bound to `v1Name`, else a v2 one offering `v2Name`. */
export function hierarchyFor(layout: CgroupLayout, v1Name: string, v2Name?: string): Hierarchy | undefined {
  return (
    layout.hierarchies.find((h) => h.version === 1 && h.controllers.includes(v1Name)) ??
    (v2Name === undefined
      ? undefined
      : layout.hierarchies.find((h) => h.version === 2 && h.controllers.includes(v2Name)))
  );
}

/** The cgroup2 hierarchy, if one is mounted. */
export function unifiedHierarchy(layout: CgroupLayout): Hierarchy | undefined {
  return layout.hierarchies.find((h) => h.version === 2);
}

/**
 * The same machine seen through one cgroup version only, e.g. to drive the v2 hierarchy of a hybrid
 * host on its own (as the conformance suite does).
 */
export function restrictLayout(layout: CgroupLayout, version: 1 | 2): CgroupLayout {
  const hierarchies = layout.hierarchies.filter((h) => h.version === version);
  if (hierarchies.length === 0) {
    throw failedPrecondition(`no cgroup v${version} hierarchy is mounted (layout: ${layout.kind})`);
  }
  return { kind: version === 1 ? 'v1' : 'v2', hierarchies };
}

/** A short description for error messages: what is mounted and what it offers. */
export function describeLayout(layout: CgroupLayout): string {
  const parts = layout.hierarchies.map((h) =>
    h.version === 1 ? h.key : `cgroup2 at ${h.mountpoint} (${h.controllers.join(' ') || 'no controllers'})`,
  );
  return `${layout.kind} layout: ${parts.join(', ')}`;
}
