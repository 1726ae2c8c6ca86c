/**
 * `skiff diagnose`: a container as the kernel sees it — its processes, namespaces, cgroup, root
 * filesystem and limits — and findings in plain words where something is wrong. Counters (CPU
 * throttling) and process states (D, Z) are sampled across a window, so that what is reported is
 * what persists, not what passed at the instant of one look. Read-only: it takes no lease.
 */
import { processLiveness } from '../../common/index.ts';
import type { Image, ImageStore, MountSpec } from '../../image/index.ts';
import { loadCgroupLayout } from '../../runtime/index.ts';
import type { Container, Engine } from '../containers/index.ts';
import { type CgroupDirs, cgroupDirsOf, collectCgroup, procsFiles, readThrottle } from './cgroup.ts';
import { findingsOf } from './findings.ts';
import { collectLimits } from './limits.ts';
import { collectNamespaces } from './namespaces.ts';
import { ProcessSampler } from './process.ts';
import { collectRootfs } from './rootfs.ts';
import { DIAGNOSE_SCHEMA_VERSION, type DiagnoseReport, type LastExit } from './types.ts';

export {
  bytes,
  CPU_THROTTLED_MIN_PERIODS,
  CPU_THROTTLED_RATIO,
  D_STATE_MIN_MS,
  FDS_NEAR_LIMIT_RATIO,
  findingsOf,
  MEMORY_NEAR_LIMIT_RATIO,
  PIDS_NEAR_LIMIT_RATIO,
  PRESSURE_SOME_AVG10,
} from './findings.ts';
export type * from './types.ts';
export { DIAGNOSE_SCHEMA_VERSION, NAMESPACE_TYPES } from './types.ts';

/** The window when none is asked for: long enough for 50 CFS periods and a D state worth naming. */
export const DEFAULT_DIAGNOSE_INTERVAL_MS = 5000;
/** How often process states are sampled within the window. */
export const SAMPLE_EVERY_MS = 250;

export interface DiagnoseOptions {
  /** The sampling window (default DEFAULT_DIAGNOSE_INTERVAL_MS); 0 looks once. */
  intervalMs?: number;
}

export async function diagnoseContainer(
  engine: Engine,
  ref: string,
  options: DiagnoseOptions = {},
): Promise<DiagnoseReport> {
  const intervalMs = options.intervalMs ?? DEFAULT_DIAGNOSE_INTERVAL_MS;
  const c = await engine.inspect(ref);
  const store = await engine.imageStore().catch(() => undefined);
  const image = imageOf(store, c);
  const specs = await engine
    .snapshotter()
    .mounts(c.id)
    .catch(() => undefined);
  if (c.state !== 'running' || c.pid === undefined) return notRunning(c, intervalMs, { specs, store, image });
  const pid = c.pid;
  const dirs = cgroupDirsOf(pid, await loadCgroupLayout());
  const sampler = new ProcessSampler(pid, procsFiles(dirs));
  const throttleStart = readThrottle(dirs);
  await sampleWindow(sampler, intervalMs);
  // It ended while we watched: what is left to tell is its exit.
  if ((await processLiveness(pid, c.pidStartTime)) !== 'alive') {
    const now = await engine.inspect(c.id).catch(() => c);
    return notRunning(now.state === 'running' ? { ...now, state: 'exited' } : now, intervalMs, {
      specs,
      store,
      image,
    });
  }
  return running(engine, c, pid, { dirs, sampler, throttleStart, intervalMs, specs, store, image });
}

function imageOf(store: ImageStore | undefined, c: Container): Image | undefined {
  try {
    return store?.getById(c.imageId);
  } catch {
    return undefined; // removed under the container (rmi -f): its layers are reported unresolved
  }
}

async function sampleWindow(sampler: ProcessSampler, intervalMs: number): Promise<void> {
  const start = Date.now();
  sampler.sample(start);
  for (let now = start; now - start < intervalMs; now = Date.now()) {
    await new Promise((resolve) =>
      setTimeout(resolve, Math.min(SAMPLE_EVERY_MS, intervalMs - (now - start))),
    );
    sampler.sample();
  }
}

interface RootfsSources {
  specs: readonly MountSpec[] | undefined;
  store: ImageStore | undefined;
  image: Image | undefined;
}

function base(c: Container, intervalMs: number) {
  return {
    schemaVersion: DIAGNOSE_SCHEMA_VERSION,
    id: c.id,
    name: c.name,
    image: c.image,
    state: c.state,
    sampledAt: new Date().toISOString(),
    intervalMs,
  };
}

async function notRunning(c: Container, intervalMs: number, sources: RootfsSources): Promise<DiagnoseReport> {
  const lastExit: LastExit | null =
    c.finishedAt !== undefined || c.error !== undefined
      ? {
          exitCode: c.exitCode ?? 0,
          oomKilled: c.oomKilled,
          finishedAt: c.finishedAt ?? null,
          error: c.error ?? null,
        }
      : null;
  const facts = {
    ...base(c, intervalMs),
    lastExit,
    process: null,
    namespaces: [],
    cgroup: null,
    rootfs: await collectRootfs(sources),
    limits: null,
  };
  return { ...facts, findings: findingsOf(facts) };
}

async function running(
  engine: Engine,
  c: Container,
  pid: number,
  window: RootfsSources & {
    dirs: CgroupDirs;
    sampler: ProcessSampler;
    throttleStart: ReturnType<typeof readThrottle>;
    intervalMs: number;
  },
): Promise<DiagnoseReport> {
  const cgroup = collectCgroup(window.dirs, window.throttleStart);
  const process = window.sampler.facts();
  const others = (await engine.list())
    .filter((o) => o.id !== c.id && o.state === 'running' && o.pid !== undefined)
    .map((o) => ({ name: o.name, pid: o.pid as number }));
  const facts = {
    ...base(c, window.intervalMs),
    lastExit: null,
    process,
    namespaces: collectNamespaces(pid, others),
    cgroup,
    rootfs: await collectRootfs({ ...window, pid }),
    limits: collectLimits(process, cgroup),
  };
  return { ...facts, findings: findingsOf(facts) };
}
