/**
 * HostConfig's resources: dockerd's checks (verifyPlatformContainerResources, with its wording) and
 * the OCI `linux.resources` and `process.rlimits` they become.
 */
import { availableParallelism } from 'node:os';
import { invalidArgument } from '../../common/index.ts';
import type { Resources, Rlimit } from '../../oci/index.ts';
import { RLIMIT_TYPES } from '../../oci/index.ts';
import type { HostConfig } from '../docker-types.ts';

const MIN_MEMORY = 6 * 1024 * 1024;
const CPU_PERIOD = 100_000;

/** `0-3,5` as the kernel's cpuset lists, and every cpu in it below `cpus`. */
function checkCpuset(text: string, cpus: number): void {
  const ranges = text.split(',');
  for (const r of ranges) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(r);
    if (!m || (m[2] !== undefined && Number(m[2]) < Number(m[1])))
      throw invalidArgument(`Invalid value ${text} for cpuset cpus`);
    if (Number(m[2] ?? m[1]) >= cpus)
      throw invalidArgument(
        `Requested CPUs are not available - requested ${text}, available: ${cpus === 1 ? '0' : `0-${cpus - 1}`}`,
      );
  }
}

/** dockerd's refusals of a HostConfig, before anything is created. */
export function validateHostConfig(hc: HostConfig, cpus = availableParallelism()): void {
  const memory = hc.Memory ?? 0;
  const swap = hc.MemorySwap ?? 0;
  const reservation = hc.MemoryReservation ?? 0;
  if (memory !== 0 && memory < MIN_MEMORY) throw invalidArgument('Minimum memory limit allowed is 6MB');
  if (memory > 0 && swap > 0 && swap < memory)
    throw invalidArgument('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (memory === 0 && swap > 0)
    throw invalidArgument('You should always set the Memory limit when using Memoryswap limit, see usage');
  if (reservation !== 0 && reservation < MIN_MEMORY)
    throw invalidArgument('Minimum memory reservation allowed is 6MB');
  if (memory > 0 && reservation > 0 && memory < reservation)
    throw invalidArgument('Minimum memory limit can not be less than memory reservation limit, see usage');
  const nano = hc.NanoCpus ?? 0;
  if (nano > 0 && (hc.CpuQuota ?? 0) > 0)
    throw invalidArgument('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (nano > 0 && (hc.CpuPeriod ?? 0) > 0)
    throw invalidArgument('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nano < 0 || nano > cpus * 1e9)
    throw invalidArgument(
      `Range of CPUs is from 0.01 to ${cpus}.00, as there are only ${cpus} CPUs available`,
    );
  if (hc.CpusetCpus) checkCpuset(hc.CpusetCpus, cpus);
  if ((hc.ShmSize ?? 0) < 0) throw invalidArgument('SHM size can not be less than 0');
  if ((hc.CpuShares ?? 0) < 0) throw invalidArgument('invalid CPU shares: must be positive');
  for (const u of hc.Ulimits ?? []) rlimitType(u.Name ?? '');
}

/** An OCI rlimit type from Docker's ulimit name ("nofile" -> RLIMIT_NOFILE). */
export function rlimitType(name: string): string {
  const type = `RLIMIT_${name.toUpperCase()}`;
  if (!RLIMIT_TYPES.has(type)) throw invalidArgument(`invalid ulimit type: ${name}`);
  return type;
}

export interface ResourceHost {
  /** Whether the memory controller accounts swap (memory.memsw.* or memory.swap.max). */
  readonly swapAccounting: boolean;
}

/** linux.resources for the container's cgroup (devices are added by the caller). */
export function ociResources(hc: HostConfig, host: ResourceHost): Resources {
  const resources: Resources = {};
  const memory = hc.Memory ?? 0;
  const memoryPart: NonNullable<Resources['memory']> = {};
  if (memory > 0) memoryPart.limit = memory;
  if ((hc.MemoryReservation ?? 0) > 0) memoryPart.reservation = hc.MemoryReservation!;
  // dockerd: with a memory limit and no swap limit, swap may be as large again (MemorySwap = 2×Memory);
  // without swap accounting it ignores the swap limit (and warns).
  if (host.swapAccounting) {
    const swap = hc.MemorySwap ?? 0;
    if (swap !== 0) memoryPart.swap = swap;
    else if (memory > 0) memoryPart.swap = memory * 2;
  }
  if (Object.keys(memoryPart).length > 0) resources.memory = memoryPart;
  const cpu: NonNullable<Resources['cpu']> = {};
  if ((hc.NanoCpus ?? 0) > 0) {
    cpu.period = CPU_PERIOD;
    cpu.quota = Math.round((hc.NanoCpus! * CPU_PERIOD) / 1e9);
  }
  if ((hc.CpuQuota ?? 0) > 0) cpu.quota = hc.CpuQuota!;
  if ((hc.CpuPeriod ?? 0) > 0) cpu.period = hc.CpuPeriod!;
  if ((hc.CpuShares ?? 0) > 0) cpu.shares = hc.CpuShares!;
  if (hc.CpusetCpus) cpu.cpus = hc.CpusetCpus;
  if (hc.CpusetMems) cpu.mems = hc.CpusetMems;
  if (Object.keys(cpu).length > 0) resources.cpu = cpu;
  if ((hc.PidsLimit ?? 0) > 0) resources.pids = { limit: hc.PidsLimit! };
  return resources;
}

/** Docker's default open-files limit (containerd's default spec): soft 1024, hard 524288. */
const DOCKER_NOFILE = { soft: 1024, hard: 524288 };

/**
 * process.rlimits: the --ulimit values, plus Docker's default RLIMIT_NOFILE when none is given. The
 * hard limit is capped at this process's own (its children's, the shim's): raising a hard limit needs
 * CAP_SYS_RESOURCE, which root lacks on these machines (hard limit 20000 here), and the container
 * would fail to start on a setrlimit EPERM for a default the user never asked for.
 */
export function ociRlimits(hc: HostConfig, ownNofileHard: number): Rlimit[] {
  const rlimits: Rlimit[] = (hc.Ulimits ?? []).map((u) => ({
    type: rlimitType(u.Name ?? ''),
    soft: u.Soft ?? 0,
    hard: u.Hard ?? 0,
  }));
  if (!rlimits.some((r) => r.type === 'RLIMIT_NOFILE')) {
    const hard = Math.min(DOCKER_NOFILE.hard, ownNofileHard);
    rlimits.push({ type: 'RLIMIT_NOFILE', soft: Math.min(DOCKER_NOFILE.soft, hard), hard });
  }
  return rlimits;
}
