import { accessSync } from 'node:fs';
import path from 'node:path';
import {
  failedPrecondition,
  hasErrno,
  invalidArgument,
  runtimeFailure,
  syscallError,
} from '../../common/index.ts';
import type { Resources } from '../../oci/index.ts';
import {
  burstFirst,
  type CgroupDriver,
  checkInteger,
  checkPageSize,
  deviceRuleString,
  hugetlbSizes,
  isSet,
  periodFirst,
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

const V1_FACT_FILES = ['memory.limit_in_bytes', 'cpu.cfs_period_us', 'cpu.cfs_quota_us'] as const;

/**
 * The writes that apply `resources` to one v1 cgroup, as runc's fs driver makes them. `resources`
 * holds only what the manager routed to this hierarchy.
 */
export function planV1Writes(resources: Resources, facts: DirFacts): WritePlan {
  const writes: CgroupWrite[] = [];
  const warnings: string[] = [];
  const write = (file: string, value: string | number) => writes.push({ file, value: String(value) });

  // runc's order of subsystems: cpuset, devices, memory, cpu, pids, blkio, hugetlb, net_cls, net_prio, rdma.
  const cpu = resources.cpu;
  if (cpu?.cpus) write(cpusetFile(facts, 'cpus'), cpu.cpus);
  if (cpu?.mems) write(cpusetFile(facts, 'mems'), cpu.mems);

  for (const rule of resources.devices ?? []) {
    write(rule.allow ? 'devices.allow' : 'devices.deny', deviceRuleString(rule));
  }

  const memory = resources.memory;
  if (memory) {
    planMemory(memory, facts, write, warnings);
  }

  if (cpu) {
    if (isSet(cpu.shares)) {
      // The kernel clamps shares silently; runc reads them back and refuses the clamped value.
      if (!Number.isSafeInteger(cpu.shares) || cpu.shares < 2 || cpu.shares > 262144) {
        throw invalidArgument(`cpu.shares must be between 2 and 262144, not ${cpu.shares}`);
      }
      write('cpu.shares', cpu.shares);
    }
    const period = isSet(cpu.period) ? cpu.period : undefined;
    const quota = isSet(cpu.quota) ? cpu.quota : undefined;
    let burst: number | undefined;
    if (cpu.burst !== undefined) {
      checkInteger('cpu.burst', cpu.burst, 0);
      if (facts.files.has('cpu.cfs_burst_us')) burst = cpu.burst;
      // runc ignores the burst knob's absence (kernels before 5.14).
      else warnings.push('cpu.burst ignored: this kernel has no cpu.cfs_burst_us');
    }
    const currentQuota = numberFact(facts, 'cpu.cfs_quota_us');
    const burstBefore = burst !== undefined && (quota === undefined || burstFirst(burst, currentQuota));
    if (burst !== undefined && burstBefore) write('cpu.cfs_burst_us', burst);
    if (quota !== undefined) {
      checkInteger('cpu.quota', quota, -1);
      const first = periodFirst(period, numberFact(facts, 'cpu.cfs_period_us'));
      if (period !== undefined && first) write('cpu.cfs_period_us', period);
      write('cpu.cfs_quota_us', quota);
      if (period !== undefined && !first) write('cpu.cfs_period_us', period);
    } else if (period !== undefined) {
      write('cpu.cfs_period_us', period);
    }
    if (burst !== undefined && !burstBefore) write('cpu.cfs_burst_us', burst);
    if (cpu.idle !== undefined) {
      if (!facts.files.has('cpu.idle')) {
        throw failedPrecondition(
          'cpu.idle needs the cpu.idle file of the cpu controller (Linux 5.15 or newer)',
        );
      }
      write('cpu.idle', cpu.idle);
    }
    if (isSet(cpu.realtimePeriod)) write('cpu.rt_period_us', cpu.realtimePeriod);
    if (isSet(cpu.realtimeRuntime)) write('cpu.rt_runtime_us', cpu.realtimeRuntime);
  }

  if (resources.pids) {
    const limit = resources.pids.limit;
    checkInteger('pids.limit', limit);
    write('pids.max', limit > 0 ? limit : 'max');
  }

  const blockIO = resources.blockIO;
  if (blockIO) {
    const cfq = facts.files.has('blkio.weight');
    const bfq = facts.files.has('blkio.bfq.weight');
    const needWeights =
      isSet(blockIO.weight) || (blockIO.weightDevice ?? []).some((device) => isSet(device.weight));
    if (needWeights && !cfq && !bfq) {
      throw failedPrecondition(
        'blockIO weights need blkio.weight (CFQ) or blkio.bfq.weight (BFQ), and this kernel offers neither: ' +
          'select the bfq I/O scheduler for the disks, or drop blockIO.weight/weightDevice',
      );
    }
    const weightFile = cfq ? 'blkio.weight' : 'blkio.bfq.weight';
    const weightDeviceFile = cfq ? 'blkio.weight_device' : 'blkio.bfq.weight_device';
    if (isSet(blockIO.weight)) write(weightFile, blockIO.weight);
    if (isSet(blockIO.leafWeight)) write('blkio.leaf_weight', blockIO.leafWeight);
    for (const device of blockIO.weightDevice ?? []) {
      if (isSet(device.weight)) write(weightDeviceFile, `${device.major}:${device.minor} ${device.weight}`);
      if (isSet(device.leafWeight)) {
        write('blkio.leaf_weight_device', `${device.major}:${device.minor} ${device.leafWeight}`);
      }
    }
    const throttles = [
      ['blkio.throttle.read_bps_device', blockIO.throttleReadBpsDevice],
      ['blkio.throttle.write_bps_device', blockIO.throttleWriteBpsDevice],
      ['blkio.throttle.read_iops_device', blockIO.throttleReadIOPSDevice],
      ['blkio.throttle.write_iops_device', blockIO.throttleWriteIOPSDevice],
    ] as const;
    for (const [file, devices] of throttles) {
      for (const device of devices ?? []) write(file, `${device.major}:${device.minor} ${device.rate ?? 0}`);
    }
  }

  for (const limit of resources.hugepageLimits ?? []) {
    checkPageSize(limit);
    const file = `hugetlb.${limit.pageSize}.limit_in_bytes`;
    if (!facts.files.has(file)) {
      throw failedPrecondition(
        `hugepageLimits: this kernel has no ${limit.pageSize} huge pages ` +
          `(hugetlb sizes offered: ${hugetlbSizes(facts, 'limit_in_bytes').join(', ') || 'none'})`,
      );
    }
    write(file, limit.limit);
    // The reservation limit (Linux 5.7+) is set alike, so reserved-but-unfaulted pages count too.
    const rsvd = `hugetlb.${limit.pageSize}.rsvd.limit_in_bytes`;
    if (facts.files.has(rsvd)) write(rsvd, limit.limit);
  }

  const network = resources.network;
  if (network?.classID !== undefined) write('net_cls.classid', network.classID);
  for (const priority of network?.priorities ?? []) {
    if (/\s/.test(priority.name))
      throw invalidArgument(`network priority interface \`${priority.name}\` is not valid`);
    write('net_prio.ifpriomap', `${priority.name} ${priority.priority}`);
  }

  if (resources.rdma) for (const line of rdmaLines(resources.rdma)) write('rdma.max', line);

  if (resources.unified && Object.keys(resources.unified).length > 0) {
    throw failedPrecondition('linux.resources.unified needs cgroup v2, and this cgroup is on a v1 hierarchy');
  }
  return { writes, warnings };
}

function planMemory(
  memory: NonNullable<Resources['memory']>,
  facts: DirFacts,
  write: (file: string, value: string | number) => void,
  warnings: string[],
): void {
  const limit = memory.limit ?? 0;
  let swap = memory.swap ?? 0;
  checkInteger('memory.limit', limit, -1);
  checkInteger('memory.swap', swap, -1);
  const hasMemsw = facts.files.has('memory.memsw.limit_in_bytes');
  // An unlimited memory with swap unset means both unlimited (runc), where swap can be limited at all.
  if (limit === -1 && swap === 0 && hasMemsw) swap = -1;
  if (swap !== 0 && !hasMemsw) {
    if (swap === -1) {
      warnings.push(
        'memory.swap -1 ignored: this kernel does not account swap (no memory.memsw.limit_in_bytes)',
      );
      swap = 0;
    } else {
      throw failedPrecondition(
        `memory.swap ${swap} needs swap accounting, which this kernel lacks (no memory.memsw.limit_in_bytes): ` +
          'boot with swapaccount=1, or leave memory.swap unset',
      );
    }
  }
  if (swap > 0 && limit > 0 && swap < limit) {
    throw invalidArgument(`memory.swap (memory+swap, ${swap}) must not be below memory.limit (${limit})`);
  }
  if (limit !== 0 && swap !== 0) {
    // memsw must stay >= the memory limit at every step, so the order depends on where we start.
    const current = numberFact(facts, 'memory.limit_in_bytes') ?? 0;
    if (swap === -1 || current < swap) {
      write('memory.memsw.limit_in_bytes', swap);
      write('memory.limit_in_bytes', limit);
    } else {
      write('memory.limit_in_bytes', limit);
      write('memory.memsw.limit_in_bytes', swap);
    }
  } else {
    if (limit !== 0) write('memory.limit_in_bytes', limit);
    if (swap !== 0) write('memory.memsw.limit_in_bytes', swap);
  }
  if (isSet(memory.reservation)) write('memory.soft_limit_in_bytes', memory.reservation);
  if (memory.disableOOMKiller) write('memory.oom_control', 1);
  if (memory.swappiness !== undefined && memory.swappiness !== -1) {
    if (!Number.isSafeInteger(memory.swappiness) || memory.swappiness < 0 || memory.swappiness > 100) {
      throw invalidArgument(`memory.swappiness must be between 0 and 100, not ${memory.swappiness}`);
    }
    write('memory.swappiness', memory.swappiness);
  }
  if (memory.kernel !== undefined || memory.kernelTCP !== undefined) {
    warnings.push(
      'memory.kernel and memory.kernelTCP ignored: kernel memory limits are deprecated (as runc)',
    );
  }
}

function numberFact(facts: DirFacts, file: string): number | undefined {
  const text = facts.current[file];
  if (text === undefined) return undefined;
  const value = Number(text.split(/\s+/)[0]);
  return Number.isFinite(value) ? value : undefined;
}

/** cpuset may be mounted with `noprefix` (Android), where its files lose the `cpuset.` prefix. */
function cpusetFile(facts: DirFacts, name: 'cpus' | 'mems'): string {
  return !facts.files.has(`cpuset.${name}`) && facts.files.has(name) ? name : `cpuset.${name}`;
}

/** cpuset may be mounted with `noprefix`, where its files lose the `cpuset.` prefix. */
async function cpusetFileIn(dir: string, name: 'cpus' | 'mems'): Promise<string> {
  try {
    accessSync(path.join(dir, `cpuset.${name}`));
    return `cpuset.${name}`;
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) return name;
    throw syscallError('access', path.join(dir, `cpuset.${name}`), err);
  }
}

/**
 * Every level of a new cpuset cgroup starts with empty cpus and mems, and a process cannot join it
 * (ENOSPC) until both are set; runc copies them down from the parent at each level.
 */
async function copyCpusetFromParent(
  level: string,
  requested: { cpus?: string; mems?: string },
): Promise<void> {
  const parent = path.dirname(level);
  for (const name of ['cpus', 'mems'] as const) {
    const file = await cpusetFileIn(level, name);
    const own = (await readCgroupFile(level, file)).trim();
    if (own !== '') continue;
    const wanted = requested[name] || (await readCgroupFile(parent, file)).trim();
    await writeCgroupFile(level, file, wanted);
  }
}

async function freezerState(dir: string): Promise<string> {
  return (await readCgroupFile(dir, 'freezer.state')).trim();
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const v1Driver: CgroupDriver = {
  version: 1,
  factFiles: V1_FACT_FILES,

  async makeDir(hierarchy: Hierarchy, dir: string, resources: Resources, created: string[]): Promise<void> {
    const isCpuset = hierarchy.controllers.includes('cpuset');
    await makeCgroupDirs(hierarchy.mountpoint, dir, created, async (level) => {
      if (!isCpuset) return;
      const requested = level === dir ? { cpus: resources.cpu?.cpus, mems: resources.cpu?.mems } : {};
      await copyCpusetFromParent(level, {
        ...(requested.cpus ? { cpus: requested.cpus } : {}),
        ...(requested.mems ? { mems: requested.mems } : {}),
      });
    });
  },

  async enableControllers(): Promise<void> {
    // v1 controllers are bound to their hierarchy; there is nothing to enable.
  },

  planWrites: planV1Writes,

  /**
   * Freezing a v1 cgroup while it forks can stick in FREEZING; runc rewrites FROZEN and reads back,
   * thawing now and then to let stragglers settle, and gives up (thawed) after a bounded number of tries.
   */
  async freeze(dir: string): Promise<void> {
    try {
      for (let attempt = 0; attempt < 1000; attempt++) {
        if (attempt % 50 === 49) {
          await writeCgroupFile(dir, 'freezer.state', 'THAWED');
          await pause(10);
        }
        await writeCgroupFile(dir, 'freezer.state', 'FROZEN');
        if (attempt % 25 === 24) await pause(1);
        const state = await freezerState(dir);
        if (state === 'FROZEN') return;
        if (state !== 'FREEZING') {
          throw runtimeFailure(`freeze \`${dir}\`: freezer.state is ${state} after writing FROZEN`);
        }
      }
      throw runtimeFailure(
        `freeze \`${dir}\`: the cgroup stayed FREEZING (its processes keep forking); try again, or kill them`,
      );
    } catch (err) {
      // A cgroup left FREEZING or half frozen is worse than one that is running: thaw it back.
      await writeCgroupFile(dir, 'freezer.state', 'THAWED').catch(() => undefined);
      throw err;
    }
  },

  async thaw(dir: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    let wait = 1;
    for (;;) {
      await writeCgroupFile(dir, 'freezer.state', 'THAWED');
      if ((await freezerState(dir)) === 'THAWED') return;
      if (Date.now() >= deadline)
        throw runtimeFailure(`thaw \`${dir}\`: freezer.state did not become THAWED`);
      await pause(wait);
      wait = Math.min(wait * 2, 100);
    }
  },
};
