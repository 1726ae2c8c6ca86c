/**
 * Docker's mount inputs (HostConfig.Binds, HostConfig.Mounts, HostConfig.Tmpfs, Config.Volumes and
 * the image's VOLUME list) resolved into the container's mounts, as dockerd's volume parser and
 * registerMountPoints do: checked first (nothing is created for a refused configuration), then the
 * named volumes that do not exist yet and the anonymous ones are created.
 */
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  errnoOf,
  failedPrecondition,
  hasErrno,
  invalidArgument,
  notImplemented,
  SkiffError,
  syscallError,
} from '../common/index.ts';
import type { ResolvedMount } from './mount-types.ts';
import { isValidVolumeName, type VolumeStore, validateVolumeName } from './volumes/index.ts';

// The fields of Docker's types read here (docker-engine-api.yaml names); the shared types in
// docker-types.ts are structurally compatible.
export interface MountInput {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean } | null;
  VolumeOptions?: {
    NoCopy?: boolean;
    Labels?: Record<string, string> | null;
    Subpath?: string;
    DriverConfig?: { Name?: string; Options?: Record<string, string> | null } | null;
  } | null;
  TmpfsOptions?: {
    SizeBytes?: number;
    Mode?: number;
    Options?: readonly (readonly string[])[] | null;
  } | null;
}

export interface MountsHostConfig {
  Binds?: readonly string[] | null;
  Mounts?: readonly MountInput[] | null;
  Tmpfs?: Readonly<Record<string, string>> | null;
}

const PROPAGATIONS = ['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate'];
const DEFAULT_PROPAGATION = 'rprivate';
/** Docker's defaults for every tmpfs mount; the user's options come after and win. */
const TMPFS_DEFAULTS = ['noexec', 'nosuid', 'nodev'];

/** A mount once parsed and checked, before any volume exists. */
export interface PlannedMount {
  readonly type: 'bind' | 'volume' | 'tmpfs';
  /** bind: host path; volume: name ('' = anonymous). */
  readonly source: string;
  readonly destination: string;
  readonly readOnly: boolean;
  readonly propagation?: string;
  readonly options: string[];
  readonly noCopy?: boolean;
  /** -v creates a missing host directory; --mount refuses it. */
  readonly createSource?: boolean;
  readonly labels?: Record<string, string>;
  readonly driver?: string;
  readonly driverOptions?: Record<string, string>;
  /** From Config.Volumes / the image: loses to an explicit mount on the same destination. */
  readonly implicit?: boolean;
}

/**
 * The container's mounts, parents before children. Named volumes that do not exist are created,
 * anonymous ones get a new random name; -v host directories that do not exist are created.
 * `imageVolumes`: the merged Config.Volumes (object or list of paths). `_containerId` is part of
 * the engine contract; nothing is recorded per container here (usage is read from the container
 * records), so it is unused today.
 */
export async function resolveMounts(
  volumes: VolumeStore,
  hostConfig: MountsHostConfig,
  imageVolumes: readonly string[] | Readonly<Record<string, unknown>> | null | undefined,
  _containerId: string,
): Promise<ResolvedMount[]> {
  const planned = planMounts(hostConfig, imageVolumes);
  for (const p of planned) if (p.type === 'bind') await prepareBindSource(p);
  const created: string[] = [];
  try {
    const resolved: ResolvedMount[] = [];
    for (const p of planned) resolved.push(await resolveOne(volumes, p, created));
    return resolved;
  } catch (err) {
    // Volumes made for a container that will not exist: nothing would ever remove the anonymous ones.
    for (const name of created)
      await volumes.remove(name, { force: true }).catch((cleanupErr: unknown) => {
        // Taken by another container meanwhile: it is no longer ours to remove.
        if (!(cleanupErr instanceof SkiffError && cleanupErr.kind === 'FailedPrecondition')) throw cleanupErr;
      });
    throw err;
  }
}

/** Parses and checks every input; throws InvalidArgument with Docker's words. Sorted by depth. */
export function planMounts(
  hostConfig: MountsHostConfig,
  imageVolumes: readonly string[] | Readonly<Record<string, unknown>> | null | undefined,
): PlannedMount[] {
  const explicit: PlannedMount[] = [
    ...(hostConfig.Binds ?? []).map(parseBind),
    ...(hostConfig.Mounts ?? []).map(parseMount),
    ...Object.entries(hostConfig.Tmpfs ?? {}).map(([dest, opts]) => parseTmpfs(dest, opts)),
  ];
  const byDestination = new Map<string, PlannedMount>();
  for (const p of explicit) {
    if (byDestination.has(p.destination)) throw invalidArgument(`Duplicate mount point: ${p.destination}`);
    byDestination.set(p.destination, p);
  }
  const implicit = Array.isArray(imageVolumes) ? imageVolumes : Object.keys(imageVolumes ?? {});
  for (const dest of implicit) {
    const destination = checkDestination(dest, `invalid volume specification: '${dest}': `);
    if (!byDestination.has(destination))
      byDestination.set(destination, { ...anonymous(destination), implicit: true });
  }
  return [...byDestination.values()].sort((a, b) => depth(a.destination) - depth(b.destination));
}

const depth = (p: string) => p.split('/').filter((c) => c !== '').length;

function anonymous(destination: string): PlannedMount {
  return { type: 'volume', source: '', destination, readOnly: false, options: [] };
}

/** An absolute, cleaned destination other than `/` (moby checks the root first). */
function checkDestination(dest: string, context: string): string {
  if (cleanPath(dest) === '/')
    throw invalidArgument(`${context}invalid specification: destination can't be '/'`);
  if (!dest.startsWith('/'))
    throw invalidArgument(`${context}invalid mount path: '${dest}' mount path must be absolute`);
  return cleanPath(dest);
}

/** Go's path.Clean: no `.`, `..`, doubled or trailing slashes. */
const cleanPath = (p: string) => path.posix.normalize(p).replace(/(.)\/+$/, '$1');

/**
 * `-v`: `/ctr`, `src:/ctr`, `src:/ctr:mode[,mode…]`, as moby's Linux ParseMountRaw: made into the
 * `--mount` it means and checked as one (except that a missing host directory is created).
 */
export function parseBind(raw: string): PlannedMount {
  const invalid = () => invalidArgument(`invalid volume specification: '${raw}'`);
  const parts = raw.split(':');
  if (parts[0] === '' || parts.length > 3) throw invalid();
  let source = '';
  let target = parts[0]!;
  let mode = '';
  if (parts.length >= 2) {
    // `/foo:rw`: a destination and a mode, without a source (an anonymous volume takes no mode).
    if (parts.length === 2 && (parts[1] === '' || isValidMode(parts[1]!))) throw invalid();
    [source, target = '', mode = ''] = parts as [string, string, string?];
  }
  if (mode !== '' && !isValidMode(mode)) throw invalidArgument(`invalid mode: ${mode}`);
  const modes = mode === '' ? [] : mode.split(',');
  const propagation = modes.find((m) => PROPAGATIONS.includes(m));
  const spec: MountInput = {
    Type: source.startsWith('/') ? 'bind' : 'volume',
    Source: source,
    Target: target,
    ReadOnly: modes.includes('ro'),
    ...(modes.includes('nocopy') ? { VolumeOptions: { NoCopy: true } } : {}),
    ...(propagation ? { BindOptions: { Propagation: propagation } } : {}),
  };
  try {
    return { ...parseMount(spec), ...(spec.Type === 'bind' ? { createSource: true } : {}) };
  } catch (err) {
    // A bad volume name reads as the volume's own error; the rest names the -v value.
    if (err instanceof SkiffError && !err.message.startsWith('create '))
      throw invalidArgument(`invalid volume specification: '${raw}': ${err.message}`, err);
    throw err;
  }
}

/** Docker's linuxValidMountMode: at most one of each kind, nothing unknown. */
function isValidMode(mode: string): boolean {
  const kinds = new Map<string, number>();
  for (const m of mode.split(',')) {
    const kind = ['rw', 'ro'].includes(m)
      ? 'rw'
      : ['z', 'Z'].includes(m)
        ? 'label'
        : PROPAGATIONS.includes(m)
          ? 'propagation'
          : m === 'nocopy'
            ? 'copy'
            : ['consistent', 'cached', 'delegated'].includes(m)
              ? 'consistency'
              : undefined;
    if (kind === undefined) return false;
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  return [...kinds.values()].every((n) => n === 1);
}

/** `--mount` (HostConfig.Mounts), checked as moby's validateMountConfig. */
export function parseMount(m: MountInput): PlannedMount {
  const type = m.Type ?? '';
  const context = `invalid mount config for type "${type}": `;
  const bad = (why: string) => invalidArgument(`${context}${why}`);
  if (!m.Target) throw bad('field Target must not be empty');
  const destination = checkDestination(m.Target, context);
  const readOnly = m.ReadOnly === true;
  if (type === 'bind') {
    if (!m.Source) throw bad('field Source must not be empty');
    const propagation = m.BindOptions?.Propagation || DEFAULT_PROPAGATION;
    if (!PROPAGATIONS.includes(propagation)) throw bad(`invalid propagation mode: ${propagation}`);
    if (m.VolumeOptions) throw bad('field VolumeOptions must not be specified');
    if (!m.Source.startsWith('/')) throw bad(`invalid mount path: '${m.Source}' mount path must be absolute`);
    return {
      type: 'bind',
      source: cleanPath(m.Source),
      destination,
      readOnly,
      propagation,
      options: [],
      createSource: m.BindOptions?.CreateMountpoint === true,
    };
  }
  if (type === 'volume') {
    if (m.BindOptions) throw bad('field BindOptions must not be specified');
    const source = m.Source ?? '';
    if (m.VolumeOptions?.Subpath) {
      if (source === '') throw bad('must not set Subpath when using anonymous volumes');
      throw notImplemented(`${context}volume subpaths are not supported by skiff`);
    }
    if (readOnly && source === '') throw bad('must not set ReadOnly mode when using anonymous volumes');
    if (source !== '' && !isValidVolumeName(source)) validateVolumeName(source);
    const driverConfig = m.VolumeOptions?.DriverConfig;
    return {
      type: 'volume',
      source,
      destination,
      readOnly,
      options: [],
      noCopy: m.VolumeOptions?.NoCopy === true,
      ...(m.VolumeOptions?.Labels ? { labels: { ...m.VolumeOptions.Labels } } : {}),
      ...(driverConfig?.Name ? { driver: driverConfig.Name } : {}),
      ...(driverConfig?.Options ? { driverOptions: { ...driverConfig.Options } } : {}),
    };
  }
  if (type === 'tmpfs') {
    if (m.BindOptions) throw bad('field BindOptions must not be specified');
    if (m.Source) throw bad('field Source must not be specified');
    return {
      type: 'tmpfs',
      source: '',
      destination,
      readOnly,
      options: mergeTmpfsOptions(tmpfsOptions(m, bad)),
    };
  }
  if (type === 'image') throw notImplemented(`${context}image mounts are not supported by skiff`);
  throw bad('mount type unknown');
}

/** moby's ConvertTmpfsOptions (without ro, which is readOnly here): mode, size, exec/noexec. */
function tmpfsOptions(m: MountInput, bad: (why: string) => Error): string[] {
  const out: string[] = [];
  const opt = m.TmpfsOptions;
  if (opt?.Mode) out.push(`mode=${opt.Mode.toString(8)}`);
  if (opt?.SizeBytes) out.push(`size=${tmpfsSize(opt.SizeBytes)}`);
  for (const o of opt?.Options ?? []) {
    if (o.length < 1 || o.length > 2) throw bad('invalid option array length');
    if (o[0] !== 'exec' && o[0] !== 'noexec') throw bad(`invalid option: ${o[0]}`);
    out.push(o.join('='));
  }
  return out;
}

/** moby's ConvertTmpfsOptions: the largest of g, m, k that divides the size. */
function tmpfsSize(bytes: number): string {
  for (const [suffix, divisor] of [
    ['g', 1 << 30],
    ['m', 1 << 20],
    ['k', 1 << 10],
  ] as const)
    if (bytes % divisor === 0) return `${bytes / divisor}${suffix}`;
  return String(bytes);
}

/** `--tmpfs /path:opts` arrives as HostConfig.Tmpfs { "/path": "size=64m,mode=1777" }. */
export function parseTmpfs(dest: string, opts: string): PlannedMount {
  const destination = checkDestination(dest, '');
  const given = opts.split(',').filter((o) => o !== '');
  for (const o of given) {
    const [key = '', value] = o.split('=', 2);
    if (key === 'mode' && !/^[0-7]{1,4}$/.test(value ?? ''))
      throw invalidArgument(`invalid tmpfs option ["${o}"]: mode must be octal`);
    if (key === 'size' && !/^\d+[kKmMgG%]?$/.test(value ?? ''))
      throw invalidArgument(`invalid tmpfs option ["${o}"]: bad size`);
  }
  const readOnly = given.includes('ro');
  return {
    type: 'tmpfs',
    source: '',
    destination,
    readOnly,
    options: mergeTmpfsOptions(given.filter((o) => o !== 'ro' && o !== 'rw')),
  };
}

/** moby's MergeTmpfsOptions: a later flag cancels its opposite (exec vs noexec), a later key=value wins. */
function mergeTmpfsOptions(user: readonly string[]): string[] {
  const opposite = (o: string) => (o.startsWith('no') ? o.slice(2) : `no${o}`);
  const out: string[] = [];
  for (const o of [...TMPFS_DEFAULTS, ...user]) {
    const eq = o.indexOf('=');
    const index =
      eq === -1
        ? out.findIndex((x) => x === o || x === opposite(o))
        : out.findIndex((x) => x.startsWith(`${o.slice(0, eq)}=`));
    if (index !== -1) out.splice(index, 1);
    out.push(o);
  }
  return out;
}

/** -v creates a missing host directory (as dockerd, mode 0755); --mount requires it to exist. */
async function prepareBindSource(p: PlannedMount): Promise<void> {
  try {
    await stat(p.source);
    return;
  } catch (err) {
    if (!hasErrno(err, 'ENOENT')) throw syscallError('stat', p.source, err);
  }
  if (!p.createSource)
    throw invalidArgument(
      `invalid mount config for type "bind": bind mount source path does not exist: ${p.source}`,
    );
  try {
    await mkdir(p.source, { recursive: true, mode: 0o755 });
  } catch (err) {
    throw syscallError('mkdir', p.source, err);
  }
}

async function resolveOne(volumes: VolumeStore, p: PlannedMount, created: string[]): Promise<ResolvedMount> {
  const base = { destination: p.destination, readOnly: p.readOnly, options: p.options };
  if (p.type === 'tmpfs') return { type: 'tmpfs', source: '', ...base };
  if (p.type === 'bind') return { type: 'bind', source: p.source, ...base, propagation: p.propagation! };
  const existed = p.source !== '' && volumes.find(p.source) !== undefined;
  const volume = await volumes.create({
    ...(p.source === '' ? {} : { name: p.source }),
    ...(p.labels ? { labels: p.labels } : {}),
    ...(p.driver ? { driver: p.driver } : {}),
    ...(p.driverOptions ? { options: p.driverOptions } : {}),
  });
  if (!existed) created.push(volume.name);
  // A local volume with type=none,o=bind,device=DIR mounts DIR itself; it holds the user's data.
  const device = volume.options.type === 'none' ? volume.options.device : undefined;
  if (device !== undefined)
    try {
      await stat(device);
    } catch (err) {
      throw failedPrecondition(
        `error while mounting volume '${volume.mountpoint}': failed to mount local volume: ` +
          `mount ${device}:${volume.mountpoint}, flags: 0x1000: ${errnoOf(err) ?? 'EIO'} (${(err as Error).message})`,
        err,
      );
    }
  return {
    type: 'volume',
    source: device ?? volume.mountpoint,
    ...base,
    name: volume.name,
    ...(volume.anonymous ? { anonymous: true } : {}),
    copyUp: !p.noCopy && !volume.populated && device === undefined,
  };
}

/**
 * Copy-up for the volumes first used by this container: the image's content at each destination
 * (inside the mounted rootfs) goes into the volume. Call after the rootfs is mounted, before start.
 */
export async function copyUpVolumes(
  volumes: VolumeStore,
  mounts: readonly ResolvedMount[],
  rootfs: string,
): Promise<void> {
  for (const m of mounts)
    if (m.type === 'volume' && m.copyUp && m.name) await volumes.copyUp(m.name, rootfs, m.destination);
}

/**
 * `rm -v` and `run --rm`: the container's anonymous volumes go with it (named ones stay), unless
 * another container uses one too. Call once the container's record is deleted (until then the
 * volumes count as in use). Returns the names removed.
 */
export async function removeAnonymousVolumes(
  volumes: VolumeStore,
  mounts: readonly ResolvedMount[],
): Promise<string[]> {
  const removed: string[] = [];
  for (const m of mounts) {
    if (m.type !== 'volume' || !m.anonymous || !m.name) continue;
    try {
      await volumes.remove(m.name);
      removed.push(m.name);
    } catch (err) {
      // Shared with another container (or already gone): not this container's to remove.
      if (err instanceof SkiffError && (err.kind === 'FailedPrecondition' || err.kind === 'NotFound'))
        continue;
      throw err;
    }
  }
  return removed;
}
