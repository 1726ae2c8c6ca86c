import { invalidArgument } from '../../common/index.ts';
import type { DeviceCgroup, HugepageLimit, Resources } from '../../oci/index.ts';
import type { DirFacts, WritePlan } from './fs.ts';
import type { Hierarchy } from './layout.ts';

/**
 * One cgroup version's way with one hierarchy. The manager routes each resource to the hierarchy
 * that holds its controller and hands the driver only those resources.
 */
export interface CgroupDriver {
  readonly version: 1 | 2;
  /** Files whose current values `planWrites` needs to order its writes. */
  readonly factFiles: readonly string[];
  /**
   * Creates `dir` and its missing ancestors below the mountpoint, preparing each level as the
   * controllers require before a process can join; pushes what it made onto `created`, top first.
   */
  makeDir(hierarchy: Hierarchy, dir: string, resources: Resources, created: string[]): Promise<void>;
  /** Makes the controllers `resources` need usable in `dir` (v2: each ancestor's subtree_control). */
  enableControllers(hierarchy: Hierarchy, dir: string, resources: Resources): Promise<void>;
  /** The writes that apply `resources` to a cgroup whose files are described by `facts` (pure). */
  planWrites(resources: Resources, facts: DirFacts): WritePlan;
  /** Freezes every process of the cgroup and returns once the kernel reports it frozen. */
  freeze(dir: string): Promise<void>;
  thaw(dir: string): Promise<void>;
}

/** A set numeric resource: runc treats 0 as "not set" for these fields. */
export function isSet(value: number | undefined): value is number {
  return value !== undefined && value !== 0;
}

export function checkInteger(name: string, value: number, min = Number.MIN_SAFE_INTEGER): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw invalidArgument(
      `${name} must be an integer${min > Number.MIN_SAFE_INTEGER ? ` >= ${min}` : ''}, not ${value}`,
    );
  }
}

/** Page sizes name files (`hugetlb.2MB.max`), so only the kernel's spelling is accepted. */
export function checkPageSize(limit: HugepageLimit): void {
  if (!/^[0-9]+[KMGT]B$/.test(limit.pageSize)) {
    throw invalidArgument(
      `hugepageLimits pageSize \`${limit.pageSize}\` is not a page size as the kernel names them (e.g. 2MB, 1GB)`,
    );
  }
  checkInteger(`hugepageLimits[${limit.pageSize}].limit`, limit.limit, 0);
}

/** The hugetlb page sizes a cgroup offers, from its file names (`hugetlb.2MB.max` → 2MB). */
export function hugetlbSizes(facts: DirFacts, suffix: string): string[] {
  const sizes: string[] = [];
  for (const file of facts.files) {
    const match = /^hugetlb\.([0-9]+[KMGT]B)\.(.+)$/.exec(file);
    if (match && match[2] === suffix) sizes.push(match[1]!);
  }
  return sizes.sort();
}

/** A device rule as the v1 devices controller reads it: `c 1:3 rwm`, `a *:* rwm`. */
export function deviceRuleString(rule: DeviceCgroup): string {
  const type = rule.type ?? 'a';
  if (type !== 'a' && type !== 'b' && type !== 'c')
    throw invalidArgument(`device rule type \`${type}\` is not a, b or c`);
  const access = rule.access ?? 'rwm';
  if (!/^[rwm]{1,3}$/.test(access))
    throw invalidArgument(`device rule access \`${access}\` is not made of r, w, m`);
  const number = (value: number | undefined) => (value === undefined || value === -1 ? '*' : String(value));
  return `${type} ${number(rule.major)}:${number(rule.minor)} ${access}`;
}

export function describeDeviceRule(rule: DeviceCgroup): string {
  return `${rule.allow ? 'allow' : 'deny'} ${deviceRuleString(rule)}`;
}

/** rdma.max lines, as runc writes them: only the limits that are given. */
export function rdmaLines(rdma: NonNullable<Resources['rdma']>): string[] {
  return Object.entries(rdma).map(([device, limits]) => {
    if (/\s/.test(device) || device === '')
      throw invalidArgument(`rdma device name \`${device}\` is not valid`);
    let line = device;
    if (limits.hcaHandles !== undefined) line += ` hca_handle=${limits.hcaHandles}`;
    if (limits.hcaObjects !== undefined) line += ` hca_object=${limits.hcaObjects}`;
    return line;
  });
}

/**
 * Orders a quota and a period so that no intermediate quota/period ratio exceeds what the old and
 * the new pair allow: when the period shrinks, the quota goes first (runc reaches the same order by
 * retrying the period after an EINVAL).
 */
export function periodFirst(newPeriod: number | undefined, currentPeriod: number | undefined): boolean {
  return newPeriod === undefined || currentPeriod === undefined || newPeriod >= currentPeriod;
}

/** Burst must never exceed quota: write it before the quota when it fits the current quota, else after. */
export function burstFirst(newBurst: number, currentQuota: number | undefined): boolean {
  return currentQuota === undefined || currentQuota < 0 || newBurst <= currentQuota;
}
