import path from 'node:path';
import { failedPrecondition, invalidArgument, runtimeFailure } from '../../common/index.ts';
import type { BlockIODeviceThrottle, Resources } from '../../oci/index.ts';
import {
  burstFirst,
  type CgroupDriver,
  checkInteger,
  checkPageSize,
  hugetlbSizes,
  isSet,
  rdmaLines,
} from './driver.ts';
import {
  type CgroupWrite,
  type DirFacts,
  makeCgroupDirs,
  readCgroupFile,
  type WritePlan,
  writeCgroupFile,
} from './fs.ts';
import type { Hierarchy } from './layout.ts';

const V2_FACT_FILES = ['cpu.max'] as const;

/** runc's conversion of cgroup v1 cpu.shares [2, 262144] to cgroup v2 cpu.weight [1, 10000]. */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** runc's conversion of blkio.weight [10, 1000] to io.weight [1, 10000]. */
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/**
 * memory.swap.max from the OCI memory+swap value, as runc: -1 is max, 0 unset; otherwise the swap
 * alone is memory+swap minus memory. An unlimited memory with swap unset means both unlimited.
 */
export function swapToSwapMax(swap: number, limit: number): number {
  if (limit === -1 && swap === 0) return -1;
  if (swap === -1 || swap === 0) return swap;
  if (limit === 0 || limit === -1) {
    throw invalidArgument(
      'memory.swap needs memory.limit: on cgroup v2 the swap limit is memory.swap minus memory.limit',
    );
  }
  if (limit < 0) throw invalidArgument(`memory.limit must be -1 or positive, not ${limit}`);
  if (swap < limit) {
    throw invalidArgument(`memory.swap (memory+swap, ${swap}) must not be below memory.limit (${limit})`);
  }
  return swap - limit;
}

/** 0 is "unset" (no write), -1 is "max". */
function limitString(value: number): string {
  if (value === 0) return '';
  return value === -1 ? 'max' : String(value);
}

/** The v2 controllers `resources` need enabled from the parent down (also used by the manager's routing). */
export function v2ControllersFor(resources: Resources): string[] {
  const needed: string[] = [];
  const cpu = resources.cpu;
  if (resources.memory) needed.push('memory');
  if (
    cpu &&
    (isSet(cpu.shares) ||
      isSet(cpu.quota) ||
      isSet(cpu.period) ||
      cpu.burst !== undefined ||
      cpu.idle !== undefined)
  ) {
    needed.push('cpu');
  }
  if (cpu && (cpu.cpus || cpu.mems)) needed.push('cpuset');
  if (resources.pids) needed.push('pids');
  if (resources.blockIO) needed.push('io');
  if (resources.hugepageLimits?.length) needed.push('hugetlb');
  if (resources.rdma && Object.keys(resources.rdma).length > 0) needed.push('rdma');
  for (const key of Object.keys(resources.unified ?? {})) {
    const controller = key.split('.')[0] ?? '';
    if (controller !== 'cgroup' && !needed.includes(controller)) needed.push(controller);
  }
  return needed;
}

/**
 * The writes that apply `resources` to one v2 cgroup, as runc's fs2 driver makes them. `resources`
 * holds only what the manager routed to this hierarchy.
 */
export function planV2Writes(resources: Resources, facts: DirFacts): WritePlan {
  const writes: CgroupWrite[] = [];
  const warnings: string[] = [];
  const write = (file: string, value: string | number) => writes.push({ file, value: String(value) });

  // runc's order: pids, memory, io, cpu, cpuset, hugetlb, rdma, unified.
  if (resources.pids) {
    const limit = resources.pids.limit;
    checkInteger('pids.limit', limit);
    write('pids.max', limit > 0 ? limit : 'max');
  }

  const memory = resources.memory;
  if (memory) {
    const limit = memory.limit ?? 0;
    const swap = memory.swap ?? 0;
    checkInteger('memory.limit', limit, -1);
    checkInteger('memory.swap', swap, -1);
    const swapMax = swapToSwapMax(swap, limit);
    let swapValue = limitString(swapMax);
    // memory.swap equal to memory.limit means "no swap".
    if (swapValue === '' && swapMax === 0 && swap > 0) swapValue = '0';
    if (swapValue !== '') {
      if (facts.files.has('memory.swap.max')) write('memory.swap.max', swapValue);
      // Without swap accounting, "unlimited" and "none" are what the kernel does anyway (runc).
      else if (swapValue === 'max' || swapValue === '0')
        warnings.push('memory.swap ignored: no memory.swap.max');
      else {
        throw failedPrecondition(
          `memory.swap needs memory.swap.max, which this kernel lacks (swap accounting off): ` +
            'boot with swapaccount=1, or leave memory.swap unset',
        );
      }
    }
    const max = limitString(limit);
    if (max !== '') write('memory.max', max);
    if (isSet(memory.reservation)) {
      checkInteger('memory.reservation', memory.reservation, -1);
      write('memory.low', limitString(memory.reservation));
    }
    if (memory.swappiness !== undefined && memory.swappiness !== -1) {
      warnings.push('memory.swappiness ignored: cgroup v2 has no per-cgroup swappiness');
    }
    if (memory.disableOOMKiller)
      warnings.push('memory.disableOOMKiller ignored: cgroup v2 cannot disable the OOM killer');
    if (memory.kernel !== undefined || memory.kernelTCP !== undefined) {
      warnings.push(
        'memory.kernel and memory.kernelTCP ignored: kernel memory limits are deprecated (as runc)',
      );
    }
  }

  const blockIO = resources.blockIO;
  if (blockIO) {
    const bfq = facts.files.has('io.bfq.weight');
    if (isSet(blockIO.weight)) {
      if (bfq) write('io.bfq.weight', blockIO.weight);
      else {
        if (!Number.isSafeInteger(blockIO.weight) || blockIO.weight < 10 || blockIO.weight > 1000) {
          throw invalidArgument(`blockIO.weight must be between 10 and 1000, not ${blockIO.weight}`);
        }
        if (!facts.files.has('io.weight')) {
          throw failedPrecondition(
            'blockIO.weight needs io.weight (the io.cost controller) or io.bfq.weight (BFQ), and this kernel offers neither',
          );
        }
        write('io.weight', blockIOWeightLine(blockIO.weight));
      }
    }
    if (isSet(blockIO.leafWeight)) warnings.push('blockIO.leafWeight ignored: cgroup v2 has no leaf weights');
    for (const device of blockIO.weightDevice ?? []) {
      if (!isSet(device.weight)) continue;
      // runc sets per-device weights only through BFQ.
      if (bfq) write('io.bfq.weight', `${device.major}:${device.minor} ${device.weight}`);
      else
        warnings.push(`blockIO.weightDevice ${device.major}:${device.minor} ignored: no io.bfq.weight (BFQ)`);
    }
    for (const line of ioMaxLines(blockIO)) write('io.max', line);
  }

  const cpu = resources.cpu;
  if (cpu) {
    if (isSet(cpu.shares)) {
      if (!Number.isSafeInteger(cpu.shares) || cpu.shares < 2 || cpu.shares > 262144) {
        throw invalidArgument(`cpu.shares must be between 2 and 262144, not ${cpu.shares}`);
      }
      write('cpu.weight', sharesToWeight(cpu.shares));
    }
    if (cpu.idle !== undefined) {
      if (!facts.files.has('cpu.idle')) {
        throw failedPrecondition(
          'cpu.idle needs the cpu.idle file of the cpu controller (Linux 5.15 or newer)',
        );
      }
      write('cpu.idle', cpu.idle);
    }
    const quota = isSet(cpu.quota) ? cpu.quota : undefined;
    const period = isSet(cpu.period) ? cpu.period : undefined;
    const [currentQuotaText, currentPeriodText] = (facts.current['cpu.max'] ?? '').split(/\s+/);
    let burst: number | undefined;
    if (cpu.burst !== undefined) {
      checkInteger('cpu.burst', cpu.burst, 0);
      if (facts.files.has('cpu.max.burst')) burst = cpu.burst;
      else warnings.push('cpu.burst ignored: this kernel has no cpu.max.burst');
    }
    const currentQuota =
      currentQuotaText === undefined || currentQuotaText === '' || currentQuotaText === 'max'
        ? undefined
        : Number(currentQuotaText);
    const burstBefore = burst !== undefined && (quota === undefined || burstFirst(burst, currentQuota));
    if (burst !== undefined && burstBefore) write('cpu.max.burst', burst);
    if (quota !== undefined || period !== undefined) {
      if (quota !== undefined) checkInteger('cpu.quota', quota, -1);
      // A period alone keeps the quota in force (runc would reset it to max).
      const quotaText = quota === undefined ? currentQuotaText || 'max' : quota > 0 ? String(quota) : 'max';
      const periodValue = period ?? (currentPeriodText ? Number(currentPeriodText) : 100000);
      write('cpu.max', `${quotaText} ${periodValue}`);
    }
    if (burst !== undefined && !burstBefore) write('cpu.max.burst', burst);
    if (isSet(cpu.realtimePeriod) || isSet(cpu.realtimeRuntime)) {
      throw failedPrecondition(
        'cpu.realtimePeriod/realtimeRuntime need the cgroup v1 cpu controller: cgroup v2 has no real-time group scheduling',
      );
    }
    if (cpu.cpus) write('cpuset.cpus', cpu.cpus);
    if (cpu.mems) write('cpuset.mems', cpu.mems);
  }

  for (const limit of resources.hugepageLimits ?? []) {
    checkPageSize(limit);
    const file = `hugetlb.${limit.pageSize}.max`;
    if (!facts.files.has(file)) {
      throw failedPrecondition(
        `hugepageLimits: this kernel has no ${limit.pageSize} huge pages ` +
          `(hugetlb sizes offered: ${hugetlbSizes(facts, 'max').join(', ') || 'none'})`,
      );
    }
    write(file, limit.limit);
    const rsvd = `hugetlb.${limit.pageSize}.rsvd.max`;
    if (facts.files.has(rsvd)) write(rsvd, limit.limit);
  }

  if (resources.rdma) for (const line of rdmaLines(resources.rdma)) write('rdma.max', line);

  for (const [key, value] of Object.entries(resources.unified ?? {})) {
    if (key.includes('/') || key === '.' || key === '..' || !/^[a-z_]+\.[\w.]+$/.test(key)) {
      throw invalidArgument(
        `linux.resources.unified key \`${key}\` is not a cgroup file name (controller.parameter)`,
      );
    }
    if (!facts.files.has(key)) {
      throw failedPrecondition(
        `linux.resources.unified key \`${key}\`: no such file in this cgroup (is the \`${key.split('.')[0]}\` controller available and enabled?)`,
      );
    }
    // Multi-line values (io.max, rdma.max …) take one rule per write, as runc's WriteFileByLine.
    for (const line of value.split('\n')) if (line !== '') write(key, line);
  }

  if (resources.devices?.length) {
    throw invalidArgument('device rules reached the v2 writer; the manager must handle them');
  }
  return { writes, warnings };
}

function blockIOWeightLine(weight: number): string {
  return String(blkioWeightToIoWeight(weight));
}

/** One io.max line per device with all its limits (`8:0 rbps=1048576 wiops=100`); rate 0 lifts a limit. */
export function ioMaxLines(blockIO: NonNullable<Resources['blockIO']>): string[] {
  const byDevice = new Map<string, string[]>();
  const add = (key: string, devices: BlockIODeviceThrottle[] | undefined) => {
    for (const device of devices ?? []) {
      const id = `${device.major}:${device.minor}`;
      const entries = byDevice.get(id) ?? [];
      entries.push(`${key}=${isSet(device.rate) ? device.rate : 'max'}`);
      byDevice.set(id, entries);
    }
  };
  add('rbps', blockIO.throttleReadBpsDevice);
  add('wbps', blockIO.throttleWriteBpsDevice);
  add('riops', blockIO.throttleReadIOPSDevice);
  add('wiops', blockIO.throttleWriteIOPSDevice);
  return [...byDevice].map(([id, entries]) => `${id} ${entries.join(' ')}`);
}

/**
 * Enables `controllers` in the subtree_control of every level from the mountpoint to the cgroup's
 * parent, writing only what is missing: an ancestor we do not own may already delegate them and
 * refuse writes, and one that holds processes refuses new domain controllers (EBUSY).
 */
export async function enableV2Controllers(
  hierarchy: Hierarchy,
  dir: string,
  controllers: readonly string[],
): Promise<void> {
  if (controllers.length === 0) return;
  const relative = path.relative(hierarchy.mountpoint, dir);
  const levels = [hierarchy.mountpoint];
  for (const part of relative === '' ? [] : relative.split(path.sep).slice(0, -1)) {
    levels.push(path.join(levels[levels.length - 1]!, part));
  }
  for (const level of levels) {
    const enabled = new Set((await readCgroupFile(level, 'cgroup.subtree_control')).split(/\s+/));
    const missing = controllers.filter((name) => !enabled.has(name));
    if (missing.length === 0) continue;
    const available = new Set((await readCgroupFile(level, 'cgroup.controllers')).split(/\s+/));
    const absent = missing.filter((name) => !available.has(name));
    if (absent.length > 0) {
      throw failedPrecondition(
        `cgroup v2 controller${absent.length > 1 ? 's' : ''} ${absent.join(', ')} not available in ` +
          `\`${level}\` (cgroup.controllers: ${[...available].join(' ') || 'none'}): ` +
          'enable it in the parent cgroups, or drop the resources that need it',
      );
    }
    await writeCgroupFile(level, 'cgroup.subtree_control', missing.map((name) => `+${name}`).join(' '));
  }
}

async function frozenState(dir: string): Promise<string | undefined> {
  const events = await readCgroupFile(dir, 'cgroup.events');
  return /^frozen (\d)$/m.exec(events)?.[1];
}

async function setFrozen(dir: string, frozen: boolean): Promise<void> {
  const want = frozen ? '1' : '0';
  await writeCgroupFile(dir, 'cgroup.freeze', want);
  // The kernel freezes asynchronously; cgroup.events says when every task has stopped.
  const deadline = Date.now() + 10_000;
  let wait = 1;
  for (;;) {
    const state = await frozenState(dir);
    if (state === want || state === undefined) return;
    if (Date.now() >= deadline) {
      if (frozen) await writeCgroupFile(dir, 'cgroup.freeze', '0').catch(() => undefined);
      throw runtimeFailure(
        `${frozen ? 'freeze' : 'thaw'} \`${dir}\`: cgroup.events did not report frozen ${want} within 10s`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
    wait = Math.min(wait * 2, 50);
  }
}

export const v2Driver: CgroupDriver = {
  version: 2,
  factFiles: V2_FACT_FILES,

  async makeDir(hierarchy: Hierarchy, dir: string, resources: Resources, created: string[]): Promise<void> {
    await makeCgroupDirs(hierarchy.mountpoint, dir, created);
    await enableV2Controllers(hierarchy, dir, v2ControllersFor(resources));
  },

  async enableControllers(hierarchy: Hierarchy, dir: string, resources: Resources): Promise<void> {
    await enableV2Controllers(hierarchy, dir, v2ControllersFor(resources));
  },

  planWrites: planV2Writes,

  freeze: (dir: string) => setFrozen(dir, true),
  thaw: (dir: string) => setFrozen(dir, false),
};
