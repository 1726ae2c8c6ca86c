/**
 * Resource statistics of running containers (`skiff stats`; the diagnose helper reads the same):
 * readers of the cgroup files (./cgroup.ts) and the host's counters (./host.ts), and docker's figures
 * made of two readings (./compute.ts).
 */
import { containerCgroup } from '../../runtime/index.ts';
import type { Engine } from '../containers/engine.ts';
import type { Container } from '../containers/records.ts';
import { sampleCgroup } from './cgroup.ts';
import type { StatsSample } from './compute.ts';
import { hostMemory, onlineCpus, processNetBytes, systemCpuNs } from './host.ts';

export * from './cgroup.ts';
export * from './compute.ts';
export * from './host.ts';

/**
 * One reading of a running container's cgroup with the host's counters; undefined when it does not
 * run (or has ended since it was listed).
 */
export async function sampleContainer(engine: Engine, c: Container): Promise<StatsSample | undefined> {
  if (c.state !== 'running') return undefined;
  const record = await engine.runtime.store.read(c.id).catch(() => undefined);
  if (!record?.cgroup) return undefined;
  const cgroup = await containerCgroup(record);
  // The init's network namespace; with --network host that is the host's, which docker does not count.
  const net = c.hostConfig.NetworkMode !== 'host' && c.pid !== undefined ? processNetBytes(c.pid) : undefined;
  return {
    at: Date.now(),
    cgroup: sampleCgroup(cgroup.dirs),
    systemCpuNs: systemCpuNs(),
    onlineCpus: onlineCpus(),
    hostMemory: hostMemory(),
    ...(net ? { net } : {}),
  };
}
