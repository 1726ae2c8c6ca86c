/**
 * runc's operations on an existing container beyond the lifecycle: `ps`, `pause`, `resume` and
 * `update`. Each is a function over the state store, so the CLI and the engine call the same code.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { failedPrecondition, invalidArgument, runtimeFailure, syscallError } from '../common/index.ts';
import type { Resources } from '../oci/index.ts';
import { checkSpec, OCI_RUNTIME_SPEC_VERSION } from '../oci/index.ts';
import {
  type Cgroup,
  cgroupPids,
  detectLayout,
  freezeCgroup,
  loadCgroup,
  thawCgroup,
  updateCgroup,
} from './cgroups/index.ts';
import { cgroupIsFrozen } from './freezer.ts';
import type { ContainerRecord, StateStore } from './state.ts';

/** The container's cgroup, rebuilt from its record; an error names the container when it has none. */
export async function containerCgroup(record: ContainerRecord): Promise<Cgroup> {
  if (!record.cgroup) throw failedPrecondition(`container "${record.id}" has no cgroup`);
  return loadCgroup(await detectLayout(), record.cgroup);
}

/** Host pids of every process in the container's cgroup (runc ps --format json). */
export async function containerPids(store: StateStore, id: string): Promise<number[]> {
  const record = await store.read(id);
  const status = await store.status(record);
  if (status === 'stopped' || status === 'creating') {
    throw failedPrecondition(`cannot list the processes of container "${id}": it is ${status}`);
  }
  return cgroupPids(await containerCgroup(record));
}

/**
 * runc's `ps` table: runs ps(1) with the given options (default `-ef`) and keeps its header and the
 * lines whose PID column is one of the container's processes.
 */
export async function psTable(store: StateStore, id: string, psArgs: string[]): Promise<string> {
  const pids = new Set(await containerPids(store, id));
  const args = psArgs.length > 0 ? psArgs : ['-ef'];
  const result = spawnSync('ps', args, { encoding: 'utf8' });
  if (result.error) throw runtimeFailure(`run ps ${args.join(' ')}: ${result.error.message}`, result.error);
  if (result.status !== 0) {
    throw runtimeFailure(`ps ${args.join(' ')} exited with status ${result.status}: ${result.stderr.trim()}`);
  }
  return filterPsOutput(result.stdout, pids);
}

/** Keeps the header and the rows of `pids` (pure; unit-tested). */
export function filterPsOutput(output: string, pids: ReadonlySet<number>): string {
  const lines = output.split('\n');
  const header = lines[0] ?? '';
  const column = header.trim().split(/\s+/).indexOf('PID');
  if (column < 0)
    throw invalidArgument(`ps output has no PID column (header: "${header.trim()}"): pass -o pid,…`);
  const kept = [header];
  for (const line of lines.slice(1)) {
    if (line.trim() === '') continue;
    const pid = Number(line.trim().split(/\s+/)[column]);
    if (pids.has(pid)) kept.push(line);
  }
  return `${kept.join('\n')}\n`;
}

/** Freezes every process of a running container (runc pause); `state` then reports `paused`. */
export async function pauseContainer(store: StateStore, id: string): Promise<void> {
  const record = await store.read(id);
  const status = await store.status(record);
  if (status !== 'running' && status !== 'created') {
    throw failedPrecondition(`cannot pause container "${id}": it is ${status}, not running`);
  }
  await freezeCgroup(await containerCgroup(record));
}

export async function resumeContainer(store: StateStore, id: string): Promise<void> {
  const record = await store.read(id);
  const status = await store.status(record);
  if (status !== 'paused')
    throw failedPrecondition(`cannot resume container "${id}": it is ${status}, not paused`);
  await thawCgroup(await containerCgroup(record));
}

/** Thaws a frozen container so that a SIGKILL it was sent can act; a container without cgroup is left. */
export async function thawContainer(record: ContainerRecord): Promise<void> {
  if (!record.cgroup) return;
  const cgroup = loadCgroup(await detectLayout(), record.cgroup);
  if (cgroupIsFrozen(cgroup)) await thawCgroup(cgroup);
}

/** runc update's flags, as given (undefined: not given). */
export interface UpdateFlags {
  memory?: string;
  memoryReservation?: string;
  memorySwap?: string;
  cpuShares?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: string;
  blkioWeight?: string;
}

const UNITS: Record<string, number> = {
  '': 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

/** A size as runc's RAMInBytes reads it (`64m`, `1g`, `1024`, `1.5k`); -1 means unlimited. */
export function parseMemorySize(flag: string, text: string): number {
  if (text === '-1') return -1;
  const match = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?$/i.exec(text.trim());
  if (!match) throw invalidArgument(`invalid --${flag} "${text}": use a size such as 512m, 1g or -1`);
  return Math.round(Number(match[1]) * UNITS[match[2]!.toLowerCase()]!);
}

function parseInteger(flag: string, text: string, min: number): number {
  if (!/^-?\d+$/.test(text) || Number(text) < min || !Number.isSafeInteger(Number(text))) {
    throw invalidArgument(`invalid --${flag} "${text}": use an integer of at least ${min}`);
  }
  return Number(text);
}

/** The resources runc update's flags ask for (pure; unit-tested). */
export function resourcesFromFlags(flags: UpdateFlags): Resources {
  const resources: Resources = {};
  const memory: NonNullable<Resources['memory']> = {};
  if (flags.memory !== undefined) memory.limit = parseMemorySize('memory', flags.memory);
  if (flags.memoryReservation !== undefined)
    memory.reservation = parseMemorySize('memory-reservation', flags.memoryReservation);
  if (flags.memorySwap !== undefined) memory.swap = parseMemorySize('memory-swap', flags.memorySwap);
  if (Object.keys(memory).length > 0) resources.memory = memory;
  const cpu: NonNullable<Resources['cpu']> = {};
  if (flags.cpuShares !== undefined) cpu.shares = parseInteger('cpu-shares', flags.cpuShares, 2);
  if (flags.cpuPeriod !== undefined) cpu.period = parseInteger('cpu-period', flags.cpuPeriod, 1000);
  if (flags.cpuQuota !== undefined) cpu.quota = parseInteger('cpu-quota', flags.cpuQuota, -1);
  if (flags.cpusetCpus !== undefined) cpu.cpus = cpusetList('cpuset-cpus', flags.cpusetCpus);
  if (flags.cpusetMems !== undefined) cpu.mems = cpusetList('cpuset-mems', flags.cpusetMems);
  if (Object.keys(cpu).length > 0) resources.cpu = cpu;
  if (flags.pidsLimit !== undefined)
    resources.pids = { limit: parseInteger('pids-limit', flags.pidsLimit, -1) };
  if (flags.blkioWeight !== undefined) {
    const weight = parseInteger('blkio-weight', flags.blkioWeight, 0);
    if (weight !== 0 && (weight < 10 || weight > 1000)) {
      throw invalidArgument(`invalid --blkio-weight "${flags.blkioWeight}": use 10 to 1000 (0 leaves it)`);
    }
    if (weight !== 0) resources.blockIO = { weight };
  }
  return resources;
}

function cpusetList(flag: string, text: string): string {
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(text)) {
    throw invalidArgument(`invalid --${flag} "${text}": use a list such as 0-2,4`);
  }
  return text;
}

/** Reads `-r FILE` (or `-` for the given stdin text): an OCI LinuxResources object, checked by the schema. */
export function parseResourcesJson(text: string, source: string): Resources {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw invalidArgument(`${source}: invalid JSON: ${(err as Error).message}`, err);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw invalidArgument(`${source}: expected an OCI LinuxResources object ({"memory": {...}, ...})`);
  }
  const issues = checkSpec({ ociVersion: OCI_RUNTIME_SPEC_VERSION, linux: { resources: json } });
  const issue = issues.find((i) => i.path.startsWith('linux.resources') || i.path === 'linux');
  if (issue) {
    const field = issue.path.replace(/^linux\.resources\.?/, '') || '(top level)';
    throw invalidArgument(`${source}: ${field}: ${issue.message}`);
  }
  return json as Resources;
}

export function readResourcesFile(file: string, stdin: () => string): Resources {
  if (file === '-') return parseResourcesJson(stdin(), 'resources from stdin');
  let text: string;
  try {
    text = readFileSync(path.resolve(file), 'utf8');
  } catch (err) {
    throw syscallError('read', file, err);
  }
  return parseResourcesJson(text, file);
}

/** Deep-merges an update into the resources already recorded (arrays replace, as runc). */
export function mergeResources(base: Resources | undefined, update: Resources): Resources {
  const out = structuredClone(base ?? {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(update)) {
    const existing = out[key];
    if (
      value &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      existing &&
      typeof existing === 'object'
    ) {
      out[key] = { ...(existing as object), ...(value as object) };
    } else {
      out[key] = structuredClone(value);
    }
  }
  return out as Resources;
}

/**
 * Applies new resources to a created, running or paused container's cgroups (runc update), and
 * records the merged result in its state so that `state` and later updates see it. Returns the
 * warnings of what was tolerated and not done.
 */
export async function updateContainer(store: StateStore, id: string, update: Resources): Promise<string[]> {
  const record = await store.read(id);
  const status = await store.status(record);
  if (status === 'stopped' || status === 'creating') {
    throw failedPrecondition(`cannot update container "${id}": it is ${status}`);
  }
  if (Object.keys(update).length === 0) {
    throw invalidArgument(
      `update of container "${id}": no resources given (use flags such as --memory, or -r FILE)`,
    );
  }
  const base = record.resources ?? (await bundleResources(record));
  const merged = mergeResources(base, update);
  const warnings = await updateCgroup(await containerCgroup(record), update, {
    devicesWithoutController: 'skip',
  });
  record.resources = merged;
  await store.write(record);
  return warnings;
}

/** The resources the container was created with (its bundle's config.json), before any update. */
async function bundleResources(record: ContainerRecord): Promise<Resources | undefined> {
  try {
    const spec = JSON.parse(readFileSync(path.join(record.bundle, 'config.json'), 'utf8'));
    return spec?.linux?.resources;
  } catch {
    // The bundle may be gone or changed since create: an update then starts from nothing recorded.
    return undefined;
  }
}
