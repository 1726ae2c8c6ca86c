import { accessSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import {
  errnoOf,
  failedPrecondition,
  hasErrno,
  invalidArgument,
  notImplemented,
  runtimeFailure,
  SkiffError,
  syscallError,
} from '../../common/index.ts';
import type { CpuResources, Resources } from '../../oci/index.ts';
import { type CgroupDriver, describeDeviceRule, isSet } from './driver.ts';
import {
  gatherFacts,
  performWrites,
  readCgroupFile,
  readPidsTree,
  removeCgroupTree,
  writeCgroupFile,
} from './fs.ts';
import {
  type CgroupLayout,
  describeLayout,
  type Hierarchy,
  hierarchyFor,
  unifiedHierarchy,
} from './layout.ts';
import { cgroupDir, cgroupPathIn, parseCgroupsPath } from './path.ts';
import { v1Driver } from './v1.ts';
import { v2Driver } from './v2.ts';

/** A container's cgroup in one hierarchy. */
export interface CgroupDir {
  hierarchy: Hierarchy;
  /** The cgroup's path within the hierarchy, from its mountpoint (`/skiff/abc`). */
  path: string;
  /** The directory (`/sys/fs/cgroup/memory/skiff/abc`). */
  dir: string;
}

/** A container's cgroup: one directory per hierarchy it joins. */
export interface Cgroup {
  /** `linux.cgroupsPath` normalised (`/skiff/abc`), or the container id when it was not given (relative). */
  path: string;
  layout: CgroupLayout;
  dirs: CgroupDir[];
  /** The `cgroup.procs` files a process writes its pid into to join the cgroup, one per hierarchy. */
  procsFiles: string[];
  /** Settings that were accepted but not applied, and why (runc's tolerated cases). */
  warnings: string[];
}

/** What to store (state.json) to find the cgroup again from any process: the path in each hierarchy. */
export interface CgroupRecord {
  path: string;
  /** By hierarchy key (`memory`, `cpu,cpuacct`, `name=systemd`, `unified`). */
  paths: Record<string, string>;
}

export interface CreateCgroupOptions {
  cgroupsPath?: string | undefined;
  containerId: string;
  resources?: Resources | undefined;
  /**
   * Device rules cannot be enforced where no v1 devices controller exists (pure v2 needs an eBPF
   * program, which skiff does not implement). 'reject' (default) fails with NotImplemented naming
   * the first rule; 'skip' applies the other resources and reports the rules in `warnings`.
   */
  devicesWithoutController?: 'reject' | 'skip';
}

export type UpdateCgroupOptions = Pick<CreateCgroupOptions, 'devicesWithoutController'>;

export interface WarningSink {
  /** Told what was tolerated and not done (e.g. a failed freeze before signalling). */
  onWarning?: (message: string) => void;
}

const driverFor = (hierarchy: Hierarchy): CgroupDriver => (hierarchy.version === 1 ? v1Driver : v2Driver);

/**
 * The hierarchies a container joins: every v2 one and every v1 one with controllers, plus
 * name=systemd; other named v1 hierarchies belong to their owners (runc joins the same set).
 */
function joinedHierarchies(layout: CgroupLayout): Hierarchy[] {
  return layout.hierarchies.filter(
    (h) =>
      h.version === 2 ||
      h.controllers.some((c) => !c.startsWith('name=')) ||
      h.controllers.includes('name=systemd'),
  );
}

/** The resources each hierarchy applies, and what was set aside. */
export interface ResourceRoutes {
  byHierarchy: Map<Hierarchy, Resources>;
  warnings: string[];
}

interface Group {
  /** What the user asked for, for messages (`memory`, `cpu.cpus`). */
  name: string;
  v1?: string;
  v2?: string;
  pick(resources: Resources): Resources | undefined;
}

const cpuFields = [
  'shares',
  'quota',
  'burst',
  'period',
  'realtimeRuntime',
  'realtimePeriod',
  'idle',
] as const;

const GROUPS: Group[] = [
  {
    name: 'cpuset (cpu.cpus, cpu.mems)',
    v1: 'cpuset',
    v2: 'cpuset',
    pick: ({ cpu }) => {
      if (!cpu?.cpus && !cpu?.mems) return undefined;
      const part: CpuResources = {};
      if (cpu.cpus) part.cpus = cpu.cpus;
      if (cpu.mems) part.mems = cpu.mems;
      return { cpu: part };
    },
  },
  {
    name: 'devices',
    v1: 'devices',
    pick: ({ devices }) => (devices?.length ? { devices } : undefined),
  },
  {
    name: 'memory',
    v1: 'memory',
    v2: 'memory',
    pick: ({ memory }) =>
      memory &&
      (isSet(memory.limit) ||
        isSet(memory.reservation) ||
        isSet(memory.swap) ||
        (memory.swappiness !== undefined && memory.swappiness !== -1) ||
        memory.disableOOMKiller === true)
        ? { memory }
        : undefined,
  },
  {
    name: 'cpu',
    v1: 'cpu',
    v2: 'cpu',
    pick: ({ cpu }) => {
      if (!cpu) return undefined;
      const part: CpuResources = {};
      for (const field of cpuFields) {
        const value = cpu[field];
        const meaningful = field === 'burst' || field === 'idle' ? value !== undefined : isSet(value);
        if (meaningful) part[field] = value;
      }
      return Object.keys(part).length > 0 ? { cpu: part } : undefined;
    },
  },
  {
    name: 'pids',
    v1: 'pids',
    v2: 'pids',
    pick: ({ pids }) => (pids ? { pids } : undefined),
  },
  {
    name: 'blockIO',
    v1: 'blkio',
    v2: 'io',
    pick: ({ blockIO }) =>
      blockIO &&
      (isSet(blockIO.weight) ||
        isSet(blockIO.leafWeight) ||
        blockIO.weightDevice?.length ||
        blockIO.throttleReadBpsDevice?.length ||
        blockIO.throttleWriteBpsDevice?.length ||
        blockIO.throttleReadIOPSDevice?.length ||
        blockIO.throttleWriteIOPSDevice?.length)
        ? { blockIO }
        : undefined,
  },
  {
    name: 'hugepageLimits',
    v1: 'hugetlb',
    v2: 'hugetlb',
    pick: ({ hugepageLimits }) => (hugepageLimits?.length ? { hugepageLimits } : undefined),
  },
  {
    name: 'network.classID',
    v1: 'net_cls',
    pick: ({ network }) =>
      network?.classID !== undefined ? { network: { classID: network.classID } } : undefined,
  },
  {
    name: 'network.priorities',
    v1: 'net_prio',
    pick: ({ network }) =>
      network?.priorities?.length ? { network: { priorities: network.priorities } } : undefined,
  },
  {
    name: 'rdma',
    v1: 'rdma',
    v2: 'rdma',
    pick: ({ rdma }) => (rdma && Object.keys(rdma).length > 0 ? { rdma } : undefined),
  },
];

function merge(into: Resources, part: Resources): void {
  for (const [key, value] of Object.entries(part) as [keyof Resources, unknown][]) {
    const existing = into[key];
    if (existing && typeof existing === 'object' && !Array.isArray(existing)) Object.assign(existing, value);
    else (into as Record<string, unknown>)[key] = Array.isArray(value) ? value : { ...(value as object) };
  }
}

/**
 * Decides which hierarchy applies each resource: the one that holds its controller, v1 first (on a
 * hybrid host the v2 hierarchy holds what v1 does not, e.g. hugetlb). A resource whose controller
 * is nowhere is an error naming the controller (pure; unit-tested).
 */
export function routeResources(
  layout: CgroupLayout,
  resources: Resources,
  options: UpdateCgroupOptions = {},
): ResourceRoutes {
  const byHierarchy = new Map<Hierarchy, Resources>();
  const warnings: string[] = [];
  const route = (hierarchy: Hierarchy, part: Resources) => {
    const existing = byHierarchy.get(hierarchy);
    if (existing) merge(existing, part);
    else {
      const fresh: Resources = {};
      merge(fresh, part);
      byHierarchy.set(hierarchy, fresh);
    }
  };
  for (const group of GROUPS) {
    const part = group.pick(resources);
    if (!part) continue;
    const hierarchy = group.v1 ? hierarchyFor(layout, group.v1, group.v2) : undefined;
    if (hierarchy) {
      route(hierarchy, part);
      continue;
    }
    if (group.name === 'devices') {
      const rules = part.devices ?? [];
      const first = rules[0]!;
      if (options.devicesWithoutController === 'skip') {
        warnings.push(
          `${rules.length} device rule(s) not enforced (first: ${describeDeviceRule(first)}): no v1 devices controller, ` +
            'and cgroup v2 device control needs an eBPF program, which skiff does not implement',
        );
        continue;
      }
      throw notImplemented(
        `device rule \`${describeDeviceRule(first)}\` cannot be enforced: there is no v1 devices controller, and ` +
          'cgroup v2 device control needs an eBPF program, which skiff does not implement; ' +
          'drop linux.resources.devices or allow them to go unenforced',
      );
    }
    const wanted = [group.v1, group.v2 && group.v2 !== group.v1 ? `${group.v2} (v2)` : undefined].filter(
      Boolean,
    );
    throw failedPrecondition(
      `linux.resources.${group.name} needs the ${wanted.join(' or ')} cgroup controller, which this host does not offer ` +
        `(${describeLayout(layout)})`,
    );
  }
  if (resources.unified && Object.keys(resources.unified).length > 0) {
    const unified = unifiedHierarchy(layout);
    if (!unified) {
      throw failedPrecondition(
        `linux.resources.unified needs cgroup v2, and this host has only v1 hierarchies (${describeLayout(layout)})`,
      );
    }
    route(unified, { unified: resources.unified });
  }
  return { byHierarchy, warnings };
}

function dirsFor(layout: CgroupLayout, within: (hierarchy: Hierarchy) => string): CgroupDir[] {
  return joinedHierarchies(layout).map((hierarchy) => {
    const inHierarchy = within(hierarchy);
    return { hierarchy, path: inHierarchy, dir: cgroupDir(hierarchy, inHierarchy) };
  });
}

function handleOf(layout: CgroupLayout, cgroupPath: string, dirs: CgroupDir[], warnings: string[]): Cgroup {
  return {
    path: cgroupPath,
    layout,
    dirs,
    procsFiles: dirs.map((entry) => path.join(entry.dir, 'cgroup.procs')),
    warnings,
  };
}

async function applyRoutes(
  dirs: readonly CgroupDir[],
  routes: ResourceRoutes,
  before?: (entry: CgroupDir, resources: Resources) => Promise<void>,
): Promise<string[]> {
  const warnings = [...routes.warnings];
  for (const entry of dirs) {
    const resources = routes.byHierarchy.get(entry.hierarchy);
    if (!resources) continue;
    const driver = driverFor(entry.hierarchy);
    await before?.(entry, resources);
    const facts = await gatherFacts(entry.dir, driver.factFiles);
    const plan = driver.planWrites(resources, facts);
    await performWrites(entry.dir, plan.writes);
    warnings.push(...plan.warnings);
  }
  return warnings;
}

/**
 * Creates a container's cgroup in every hierarchy and applies its resources. The process joins
 * later by writing its pid into each of `procsFiles`. On failure nothing it created is left behind.
 */
export async function createCgroup(layout: CgroupLayout, options: CreateCgroupOptions): Promise<Cgroup> {
  const cgroupsPath = parseCgroupsPath(options.cgroupsPath, options.containerId);
  const resources = options.resources ?? {};
  const routes = routeResources(layout, resources, options);
  const dirs = dirsFor(layout, (hierarchy) => cgroupPathIn(hierarchy, layout, cgroupsPath));
  const created: string[][] = [];
  try {
    for (const entry of dirs) {
      const made: string[] = [];
      created.push(made);
      await driverFor(entry.hierarchy).makeDir(
        entry.hierarchy,
        entry.dir,
        routes.byHierarchy.get(entry.hierarchy) ?? {},
        made,
      );
    }
    const warnings = await applyRoutes(dirs, routes);
    return handleOf(layout, cgroupsPath.inner, dirs, warnings);
  } catch (err) {
    const leftovers = await removeCreated(created);
    if (leftovers.length > 0 && err instanceof SkiffError) {
      throw new SkiffError(err.kind, `${err.message} (and could not clean up: ${leftovers.join('; ')})`, {
        cause: err,
      });
    }
    throw err;
  }
}

/** Removes the directories a failed create made, deepest first; returns what could not be removed. */
async function removeCreated(created: string[][]): Promise<string[]> {
  const failures: string[] = [];
  for (const made of created) {
    for (const dir of [...made].reverse()) {
      try {
        rmdirSync(dir);
      } catch (err) {
        if (!hasErrno(err, 'ENOENT')) failures.push(syscallError('rmdir', dir, err).message);
      }
    }
  }
  return failures;
}

/** Applies new resources to an existing cgroup (`update`); returns what was tolerated and not done. */
export async function updateCgroup(
  handle: Cgroup,
  resources: Resources,
  options: UpdateCgroupOptions = {},
): Promise<string[]> {
  const routes = routeResources(handle.layout, resources, options);
  const dirs = handle.dirs.filter((entry) => routes.byHierarchy.has(entry.hierarchy));
  for (const hierarchy of routes.byHierarchy.keys()) {
    if (!dirs.some((entry) => entry.hierarchy === hierarchy)) {
      throw failedPrecondition(
        `the cgroup \`${handle.path}\` has no directory in the ${hierarchy.key} hierarchy (${hierarchy.mountpoint}), ` +
          'so its resources cannot be updated there',
      );
    }
  }
  return applyRoutes(dirs, routes, async (entry, routed) => {
    await driverFor(entry.hierarchy).enableControllers(entry.hierarchy, entry.dir, routed);
    if (routed.memory?.checkBeforeUpdate) await checkMemoryUsage(entry, routed.memory);
  });
}

/** runc's memory.checkBeforeUpdate: refuse a limit at or below what the cgroup already uses. */
async function checkMemoryUsage(entry: CgroupDir, memory: NonNullable<Resources['memory']>): Promise<void> {
  const file = entry.hierarchy.version === 1 ? 'memory.usage_in_bytes' : 'memory.current';
  let usage: number;
  try {
    usage = Number((await readCgroupFile(entry.dir, file)).trim());
  } catch (err) {
    // The check is best effort, as in runc: an unreadable usage does not block the update.
    if (err instanceof SkiffError) return;
    throw err;
  }
  const limit = memory.limit ?? 0;
  const swap = memory.swap ?? 0;
  if (swap > 0 && swap <= usage) {
    throw failedPrecondition(`rejecting memory+swap limit ${swap}: at or below the current usage ${usage}`);
  }
  if (limit > 0 && limit <= usage) {
    throw failedPrecondition(`rejecting memory limit ${limit}: at or below the current usage ${usage}`);
  }
}

/**
 * Rebuilds a handle from what state.json stored. A record gives the exact directories; a bare path
 * is resolved as at create time, which for a relative path depends on the caller's own cgroup.
 */
export function loadCgroup(layout: CgroupLayout, stored: CgroupRecord | string): Cgroup {
  if (typeof stored === 'string') {
    if (stored === '') throw invalidArgument('a stored cgroup path is empty');
    const cgroupsPath = parseCgroupsPath(stored, '');
    return handleOf(
      layout,
      cgroupsPath.inner,
      dirsFor(layout, (h) => cgroupPathIn(h, layout, cgroupsPath)),
      [],
    );
  }
  const dirs: CgroupDir[] = [];
  for (const hierarchy of joinedHierarchies(layout)) {
    const within = stored.paths[hierarchy.key];
    if (within === undefined) continue;
    const normalised = path.posix.normalize(`/${within}`);
    if (normalised.split('/').includes('..') || normalised === '/') {
      throw invalidArgument(
        `stored cgroup path \`${within}\` for ${hierarchy.key} is not a cgroup below the root`,
      );
    }
    dirs.push({ hierarchy, path: normalised, dir: cgroupDir(hierarchy, normalised) });
  }
  return handleOf(layout, stored.path, dirs, []);
}

export function cgroupRecord(handle: Cgroup): CgroupRecord {
  return {
    path: handle.path,
    paths: Object.fromEntries(handle.dirs.map((entry) => [entry.hierarchy.key, entry.path])),
  };
}

/**
 * Removes the container's cgroup (with any sub-cgroups it made) from every hierarchy, as runc: only
 * the leaf, not ancestors that create made; a cgroup already gone is fine.
 */
export async function destroyCgroup(handle: Cgroup): Promise<void> {
  const failures: SkiffError[] = [];
  for (const entry of handle.dirs) {
    try {
      await removeCgroupTree(entry.dir);
    } catch (err) {
      if (err instanceof SkiffError) failures.push(err);
      else throw err;
    }
  }
  if (failures.length > 0) {
    throw runtimeFailure(
      `could not remove the cgroup \`${handle.path}\`: ${failures.map((f) => f.message).join('; ')} ` +
        '(processes still in it? kill them first)',
      failures[0],
    );
  }
}

/** The directory whose `cgroup.procs` lists the container's processes (all hierarchies hold the same set). */
function primaryDir(handle: Cgroup): CgroupDir {
  const unified = handle.dirs.find((entry) => entry.hierarchy.version === 2);
  if (handle.layout.kind === 'v2' && unified) return unified;
  for (const controller of ['freezer', 'devices', 'pids', 'memory', 'cpu']) {
    const entry = handle.dirs.find(
      (e) => e.hierarchy.version === 1 && e.hierarchy.controllers.includes(controller),
    );
    if (entry) return entry;
  }
  const any = unified ?? handle.dirs[0];
  if (!any) throw failedPrecondition(`the cgroup \`${handle.path}\` has no directory in any hierarchy`);
  return any;
}

/** Every process in the cgroup and its sub-cgroups, ascending. */
export async function cgroupPids(handle: Cgroup): Promise<number[]> {
  const pids = new Set<number>();
  await readPidsTree(primaryDir(handle).dir, pids);
  return [...pids].sort((a, b) => a - b);
}

/** The freezer: the v1 freezer controller where mounted, else cgroup v2's core cgroup.freeze. */
function freezerDir(handle: Cgroup): CgroupDir | undefined {
  return (
    handle.dirs.find((e) => e.hierarchy.version === 1 && e.hierarchy.controllers.includes('freezer')) ??
    handle.dirs.find((e) => e.hierarchy.version === 2)
  );
}

function requireFreezer(handle: Cgroup): CgroupDir {
  const entry = freezerDir(handle);
  if (!entry) {
    throw failedPrecondition(
      `cannot freeze the cgroup \`${handle.path}\`: neither the v1 freezer controller nor cgroup v2 is mounted`,
    );
  }
  return entry;
}

/** Stops every process of the container (`pause`); returns once the kernel reports them frozen. */
export async function freezeCgroup(handle: Cgroup): Promise<void> {
  const entry = requireFreezer(handle);
  await driverFor(entry.hierarchy).freeze(entry.dir);
}

export async function thawCgroup(handle: Cgroup): Promise<void> {
  const entry = requireFreezer(handle);
  await driverFor(entry.hierarchy).thaw(entry.dir);
}

async function exists(file: string): Promise<boolean> {
  try {
    accessSync(file);
    return true;
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) return false;
    throw syscallError('access', file, err);
  }
}

/**
 * Signals every process of the cgroup (`kill --all`, `delete --force`). SIGKILL goes through v2's
 * cgroup.kill where it exists, which no fork can escape; otherwise, as runc, the cgroup is frozen
 * while each pid is signalled so that no new process appears between listing and signalling.
 */
export async function killCgroup(
  handle: Cgroup,
  signal: NodeJS.Signals | number,
  options: WarningSink = {},
): Promise<void> {
  const isKill = signal === 'SIGKILL' || signal === 9;
  const unified = handle.dirs.find((entry) => entry.hierarchy.version === 2);
  if (isKill && unified && (await exists(path.join(unified.dir, 'cgroup.kill')))) {
    await writeCgroupFile(unified.dir, 'cgroup.kill', '1');
    return;
  }
  const freezer = freezerDir(handle);
  let frozen = false;
  if (freezer && (await exists(freezer.dir))) {
    try {
      await driverFor(freezer.hierarchy).freeze(freezer.dir);
      frozen = true;
    } catch (err) {
      // runc signals anyway: a cgroup that will not freeze must still be killable.
      options.onWarning?.(`signalling without freezing: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  try {
    for (const pid of await cgroupPids(handle)) {
      try {
        process.kill(pid, signal);
      } catch (err) {
        // A process that exited after it was listed is not an error.
        if (errnoOf(err) !== 'ESRCH') throw syscallError('kill', String(pid), err);
      }
    }
  } finally {
    if (frozen && freezer) await driverFor(freezer.hierarchy).thaw(freezer.dir);
  }
}

/** How one of the container's cgroups appears under the container's own `/sys/fs/cgroup` mount. */
export interface CgroupMountView {
  /** Directory name under the mount (`memory`, `cpu,cpuacct`, `systemd`, `unified`), or '' for a pure v2 host. */
  name: string;
  /** The container's cgroup directory on the host. */
  hostDir: string;
  /** Links to `name` for co-mounted controllers (`cpu` and `cpuacct` → `cpu,cpuacct`). */
  aliases: string[];
}

/** The container's cgroups laid out as runc mounts them inside the container (by mountpoint base name). */
export function cgroupViews(layout: CgroupLayout, handle: Cgroup): CgroupMountView[] {
  if (layout.kind === 'v2') {
    const unified = handle.dirs.find((entry) => entry.hierarchy.version === 2);
    return unified ? [{ name: '', hostDir: unified.dir, aliases: [] }] : [];
  }
  return handle.dirs.map((entry) => {
    const name = path.posix.basename(entry.hierarchy.mountpoint);
    const aliases =
      entry.hierarchy.version === 1 && entry.hierarchy.controllers.length > 1
        ? entry.hierarchy.controllers.filter((c) => c !== name && !c.startsWith('name='))
        : [];
    return { name, hostDir: entry.dir, aliases };
  });
}
