/**
 * Volumes of the local driver: a row in the engine's `volumes` table and a directory
 * $SKIFF_ROOT/volumes/<name>/_data. Which containers use a volume is read from the containers'
 * resolved mounts (the `mounts` column), so there is no second record to keep in step.
 */
import { renameSync } from 'node:fs';
import { lstat, mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  type Database,
  failedPrecondition,
  hasErrno,
  inTransaction,
  invalidArgument,
  notFound,
  notImplemented,
  processLiveness,
  SkiffError,
  syscallError,
} from '../../common/index.ts';
import { openEngineDb } from '../db.ts';
import { EventLog } from '../events/index.ts';
import type { ResolvedMount } from '../mount-types.ts';
import { type EnginePaths, volumeData, volumesDir } from '../paths.ts';
import { copyTree, isEmptyDir, resolveInRoot } from './copy-up.ts';
import { anonymousVolumeName, validateVolumeName } from './names.ts';

export interface Volume {
  readonly name: string;
  readonly driver: string;
  /** ISO 8601 (UTC). */
  readonly createdAt: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The local driver's options: type, device, o. */
  readonly options: Readonly<Record<string, string>>;
  readonly anonymous: boolean;
  /** The image's content was copied in (copy-up happens once). */
  readonly populated: boolean;
  /** The host directory a container mounts: …/volumes/<name>/_data. */
  readonly mountpoint: string;
}

export interface CreateVolumeOptions {
  /** Omitted: an anonymous volume with a random 64-hex name. */
  readonly name?: string;
  readonly driver?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly options?: Readonly<Record<string, string>>;
  /** Marks a named volume anonymous too (an image VOLUME given a name by the caller). */
  readonly anonymous?: boolean;
}

/** docker volume ls --filter: each key's values are ORed, keys are ANDed. */
export interface VolumeFilters {
  readonly dangling?: boolean;
  /** Regular expressions matched against the name (as moby's filter.Match). */
  readonly name?: readonly string[];
  /** `key` or `key=value`. */
  readonly label?: readonly string[];
  readonly driver?: readonly string[];
}

export interface PruneOptions {
  /** Docker 23+: without it only anonymous volumes go. */
  readonly all?: boolean;
  /** `key`, `key=value`; `!`-prefixed (label!=) excludes. */
  readonly label?: readonly string[];
}

export interface PruneResult {
  readonly deleted: string[];
  /** Bytes the deleted volumes held. */
  readonly reclaimed: number;
}

/** Docker's label marking a volume created for an anonymous mount. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';
const LOCAL_OPTION_KEYS = ['type', 'device', 'o', 'size'];
let removals = 0;

interface VolumeRow {
  name: string;
  driver: string;
  created: string;
  labels: string;
  options: string;
  anonymous: number;
  populated: number;
}

export class VolumeStore {
  readonly #db: Database;
  readonly #paths: EnginePaths;
  readonly #ownsDb: boolean;
  /** Docker's volume events (create, destroy), in the engine's event log of the same database. */
  readonly #events: EventLog;

  /** Over an open engine database (the caller closes it). */
  constructor(db: Database, paths: EnginePaths, ownsDb = false) {
    this.#db = db;
    this.#events = new EventLog(db);
    this.#paths = paths;
    this.#ownsDb = ownsDb;
  }

  /** Opens skiff.db under paths.root (migrating the engine's tables); close() closes it. */
  static open(paths: EnginePaths): VolumeStore {
    return new VolumeStore(openEngineDb(paths.root), paths, true);
  }

  close(): void {
    if (this.#ownsDb) this.#db.close();
  }

  /**
   * Creates a volume, or returns the existing one of that name (as Docker: `volume create x` twice
   * succeeds). Only the local driver exists.
   */
  async create(options: CreateVolumeOptions = {}): Promise<Volume> {
    const anonymous = options.name === undefined || options.anonymous === true;
    const name = options.name ?? anonymousVolumeName();
    validateVolumeName(name);
    const driver = options.driver || 'local';
    if (driver !== 'local')
      throw notFound(
        `create ${name}: error looking up volume plugin ${driver}: plugin "${driver}" not found`,
      );
    const driverOptions = { ...(options.options ?? {}) };
    validateLocalOptions(name, driverOptions);
    const existing = this.find(name);
    if (existing) return existing;
    const labels = { ...(options.labels ?? {}), ...(anonymous ? { [ANONYMOUS_LABEL]: '' } : {}) };
    const data = volumeData(this.#paths, name);
    try {
      await mkdir(volumesDir(this.#paths), { recursive: true, mode: 0o701 });
      await mkdir(data, { recursive: true, mode: 0o755 });
    } catch (err) {
      throw syscallError('mkdir', data, err);
    }
    const inserted = this.#db
      .prepare(
        `INSERT OR IGNORE INTO volumes (name, driver, created, labels, options, anonymous, populated)
         VALUES (?, ?, ?, ?, ?, ?, 0)`,
      )
      .run(
        name,
        driver,
        new Date().toISOString(),
        JSON.stringify(labels),
        JSON.stringify(driverOptions),
        anonymous ? 1 : 0,
      );
    if (Number(inserted.changes) > 0) this.#events.emit('volume', 'create', name, { driver });
    return this.get(name);
  }

  /** The volume, or NotFound with Docker's words ("get x: no such volume"). */
  get(name: string): Volume {
    const volume = this.find(name);
    if (!volume) throw notFound(`get ${name}: no such volume`);
    return volume;
  }

  find(name: string): Volume | undefined {
    const row = this.#db.prepare('SELECT * FROM volumes WHERE name = ?').get(name) as VolumeRow | undefined;
    return row ? this.#toVolume(row) : undefined;
  }

  list(filters: VolumeFilters = {}): Volume[] {
    const rows = this.#db.prepare('SELECT * FROM volumes ORDER BY name').all() as unknown as VolumeRow[];
    const volumes = rows.map((r) => this.#toVolume(r));
    const used = filters.dangling === undefined ? new Set<string>() : this.#usedNames();
    const names = (filters.name ?? []).map((n) => new RegExp(n));
    return volumes.filter(
      (v) =>
        (filters.dangling === undefined || used.has(v.name) !== filters.dangling) &&
        (names.length === 0 || names.some((re) => re.test(v.name))) &&
        (filters.driver === undefined || filters.driver.length === 0 || filters.driver.includes(v.driver)) &&
        (filters.label ?? []).every((l) => matchLabel(v.labels, l)),
    );
  }

  /** Ids of the containers (any state) whose mounts use the volume. */
  usedBy(name: string): string[] {
    return this.#usage()
      .filter((u) => u.names.has(name))
      .map((u) => u.id);
  }

  /**
   * Removes a volume no container uses. force: a missing volume is no error (Docker's `rm -f`; a
   * volume in use is refused even then, as Docker does).
   */
  async remove(name: string, options: { force?: boolean } = {}): Promise<void> {
    const removed = inTransaction(this.#db, () => {
      if (!this.find(name)) {
        if (options.force) return false;
        throw notFound(`get ${name}: no such volume`);
      }
      const users = this.usedBy(name);
      if (users.length > 0)
        throw failedPrecondition(`remove ${name}: volume is in use - [${users.join(', ')}]`);
      this.#db.prepare('DELETE FROM volumes WHERE name = ?').run(name);
      this.#events.emit('volume', 'destroy', name, { driver: 'local' });
      // Moved aside before the commit: a volume of the same name created right after is not touched
      // by the removal below. (`.` cannot start a volume name, so the name is free.)
      return this.#moveAside(name);
    });
    if (removed) await this.#removeData(removed);
  }

  /** Removes the unused volumes (only anonymous ones unless all), returning names and bytes freed. */
  async prune(options: PruneOptions = {}): Promise<PruneResult> {
    await this.#sweepAside();
    const include = (options.label ?? []).filter((l) => !l.startsWith('!'));
    const exclude = (options.label ?? []).filter((l) => l.startsWith('!')).map((l) => l.slice(1));
    const candidates = this.list({ dangling: true }).filter(
      (v) =>
        (options.all || v.anonymous) &&
        include.every((l) => matchLabel(v.labels, l)) &&
        !exclude.some((l) => matchLabel(v.labels, l)),
    );
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const volume of candidates) {
      const size = await directorySize(volume.mountpoint);
      try {
        await this.remove(volume.name);
      } catch (err) {
        // A container took it between the listing and now: it is no longer unused; keep it.
        if (err instanceof SkiffError && err.kind === 'FailedPrecondition') continue;
        throw err;
      }
      deleted.push(volume.name);
      reclaimed += size;
    }
    this.#events.emit('volume', 'prune', '', { reclaimed: String(reclaimed) });
    return { deleted, reclaimed };
  }

  /** Bytes of the files in the volume (hard links counted once), as Docker's UsageData. */
  async size(name: string): Promise<number> {
    return directorySize(this.get(name).mountpoint);
  }

  /**
   * Copy-up on a volume's first use: when the volume was never populated and is empty, the content
   * of containerPath inside the (mounted) rootfs is copied in. Returns whether anything was copied.
   */
  async copyUp(name: string, rootfs: string, containerPath: string): Promise<boolean> {
    const volume = this.get(name);
    if (volume.populated) return false;
    if (!(await isEmptyDir(volume.mountpoint))) {
      this.#markPopulated(name);
      return false;
    }
    const source = await resolveInRoot(rootfs, containerPath);
    if (source === undefined) return false;
    const stat = await lstat(source);
    if (!stat.isDirectory()) return false;
    // Claimed first: of two containers starting on a new volume at once, only one copies.
    const claim = this.#db
      .prepare('UPDATE volumes SET populated = 1 WHERE name = ? AND populated = 0')
      .run(name);
    if (Number(claim.changes) === 0) return false;
    try {
      await copyTree(source, volume.mountpoint);
    } catch (err) {
      this.#db.prepare('UPDATE volumes SET populated = 0 WHERE name = ?').run(name);
      throw err;
    }
    return true;
  }

  #markPopulated(name: string): void {
    this.#db.prepare('UPDATE volumes SET populated = 1 WHERE name = ?').run(name);
  }

  #moveAside(name: string): string | false {
    const dir = path.join(volumesDir(this.#paths), name);
    const aside = path.join(volumesDir(this.#paths), `.removing-${name}-${process.pid}-${++removals}`);
    try {
      renameSync(dir, aside);
    } catch (err) {
      if (hasErrno(err, 'ENOENT')) return false;
      throw syscallError('rename', dir, err);
    }
    return aside;
  }

  /** Data moved aside by a removal whose process died before deleting it. */
  async #sweepAside(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(volumesDir(this.#paths));
    } catch (err) {
      if (hasErrno(err, 'ENOENT')) return;
      throw syscallError('readdir', volumesDir(this.#paths), err);
    }
    for (const name of names) {
      const pid = /^\.removing-.+-(\d+)-\d+$/.exec(name)?.[1];
      if (pid === undefined || (await processLiveness(Number(pid))) === 'alive') continue;
      await this.#removeData(path.join(volumesDir(this.#paths), name));
    }
  }

  async #removeData(dir: string): Promise<void> {
    try {
      await rm(dir, { recursive: true, force: true });
    } catch (err) {
      throw syscallError('remove volume data', dir, err);
    }
  }

  #usage(): { id: string; names: Set<string> }[] {
    const rows = this.#db.prepare('SELECT id, mounts FROM containers').all() as {
      id: string;
      mounts: string;
    }[];
    return rows.map((row) => {
      let mounts: ResolvedMount[] = [];
      try {
        mounts = JSON.parse(row.mounts) as ResolvedMount[];
      } catch {
        // A record that does not parse names no volume; the container's own code reports it.
      }
      const names = new Set<string>();
      for (const m of Array.isArray(mounts) ? mounts : [])
        if (m?.type === 'volume' && typeof m.name === 'string') names.add(m.name);
      return { id: row.id, names };
    });
  }

  #usedNames(): Set<string> {
    return new Set(this.#usage().flatMap((u) => [...u.names]));
  }

  #toVolume(row: VolumeRow): Volume {
    return {
      name: row.name,
      driver: row.driver,
      createdAt: row.created,
      labels: JSON.parse(row.labels) as Record<string, string>,
      options: JSON.parse(row.options) as Record<string, string>,
      anonymous: row.anonymous === 1,
      populated: row.populated === 1,
      mountpoint: volumeData(this.#paths, row.name),
    };
  }
}

/** `key` (present) or `key=value` (equal). */
function matchLabel(labels: Readonly<Record<string, string>>, filter: string): boolean {
  const eq = filter.indexOf('=');
  if (eq === -1) return Object.hasOwn(labels, filter);
  return labels[filter.slice(0, eq)] === filter.slice(eq + 1);
}

/**
 * The local driver's options: Docker's keys (type, device, o). skiff mounts bind volumes (type=none,
 * o=bind, device=DIR: the container mounts DIR); tmpfs, other filesystems and size quotas are refused.
 */
function validateLocalOptions(name: string, options: Record<string, string>): void {
  for (const key of Object.keys(options))
    if (!LOCAL_OPTION_KEYS.includes(key))
      throw invalidArgument(`create ${name}: invalid option key: "${key}"`);
  if (Object.keys(options).length === 0) return;
  if (options.size !== undefined)
    throw notImplemented(`create ${name}: quota size requested but no quota support`);
  const type = options.type ?? '';
  const flags = (options.o ?? '').split(',').filter((o) => o !== '');
  if (type === 'tmpfs')
    // Docker mounts one tmpfs on the host that every container using the volume shares; that needs
    // a host mount kept while any container runs, which the engine does not manage (yet).
    throw notImplemented(
      `create ${name}: local volumes of type=tmpfs are not supported by skiff; use --tmpfs or --mount type=tmpfs`,
    );
  if (type === 'none' && (flags.includes('bind') || flags.includes('rbind'))) {
    if (!options.device?.startsWith('/'))
      throw invalidArgument(`create ${name}: bind volume needs an absolute device path (device=…)`);
    return;
  }
  if (type === '' && options.device === undefined && options.o === undefined) return;
  throw notImplemented(
    `create ${name}: local driver option type=${type || '(none)'}${flags.length ? ` o=${flags.join(',')}` : ''} ` +
      'is not supported by skiff (only type=none with o=bind)',
  );
}

/** Sum of the sizes of the non-directory entries, each inode once (moby's directory.Size). */
async function directorySize(dir: string): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  const walk = async (d: string): Promise<void> => {
    let entries: string[];
    try {
      entries = await readdir(d);
    } catch (err) {
      if (hasErrno(err, 'ENOENT')) return;
      throw syscallError('readdir', d, err);
    }
    for (const entry of entries) {
      const full = path.join(d, entry);
      const stat = await lstat(full);
      if (stat.isDirectory()) {
        await walk(full);
        continue;
      }
      const key = `${stat.dev}:${stat.ino}`;
      if (stat.nlink > 1 && seen.has(key)) continue;
      seen.add(key);
      total += stat.size;
    }
  };
  await walk(dir);
  return total;
}
