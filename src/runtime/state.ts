// The state lives on tmpfs (/run): synchronous calls never wait on a disk and skip libuv's thread pool.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  alreadyExists,
  hasErrno,
  invalidArgument,
  notFound,
  processLiveness,
  syscallError,
  writeFileAtomic,
} from '../common/index.ts';
import {
  type ContainerStatus,
  type Hooks,
  OCI_RUNTIME_SPEC_VERSION,
  type Resources,
  type State,
} from '../oci/index.ts';
import type { CgroupRecord } from './cgroups/index.ts';
import { recordIsFrozen } from './freezer.ts';
import type { RdtRecord } from './resctrl.ts';
import { SECCOMP_CACHE_DIR } from './seccomp-cache.ts';

/** What the runtime remembers of a container between commands (runc's state.json). */
export interface ContainerRecord {
  id: string;
  bundle: string;
  rootfs: string;
  /** Host pid of the init; absent while the container is being created. */
  pid?: number;
  /** Start time of the init (field 22 of /proc/<pid>/stat): tells a reused pid from ours. */
  pidStartTime?: string;
  created: string;
  owner: string;
  annotations: Record<string, string>;
  /** The container's cgroup in each hierarchy (a relative cgroupsPath depends on the caller's cgroup). */
  cgroup?: CgroupRecord;
  /** The spec's absolute cgroupsPath, stored before the cgroup is made (see Runtime.create). */
  cgroupsPath?: string;
  /** Set by `start` (the exec fifo is gone once the init has been released). */
  started?: boolean;
  /** The resctrl group the init joined (linux.intelRdt), and whether create made it. */
  intelRdt?: RdtRecord;
  /** The config's hooks: poststart and poststop run after create, when the bundle may have changed. */
  hooks?: Hooks;
  /** The resources after the last `update` (merged over the bundle's linux.resources). */
  resources?: Resources;
}

const ID_PATTERN = /^[\w+.-]+$/;

export function validateId(id: string): void {
  if (!id || !ID_PATTERN.test(id) || id === '.' || id === '..') {
    throw invalidArgument(`invalid container id "${id}": use letters, digits, and _ + - . only`);
  }
}

export class StateStore {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  dir(id: string): string {
    validateId(id);
    return path.join(this.root, id);
  }

  fifo(id: string): string {
    return path.join(this.dir(id), 'exec.fifo');
  }

  /** Claims the id: fails if a container of that name exists. */
  async reserve(id: string): Promise<string> {
    const dir = this.dir(id);
    mkdirSync(this.root, { recursive: true, mode: 0o711 });
    try {
      mkdirSync(dir, { mode: 0o711 });
    } catch (err) {
      if (hasErrno(err, 'EEXIST')) throw alreadyExists(`container "${id}" already exists`);
      throw syscallError('mkdir', dir, err);
    }
    return dir;
  }

  async write(record: ContainerRecord): Promise<void> {
    await writeFileAtomic(path.join(this.dir(record.id), 'state.json'), JSON.stringify(record));
  }

  async read(id: string): Promise<ContainerRecord> {
    const file = path.join(this.dir(id), 'state.json');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if (hasErrno(err, 'ENOENT')) throw notFound(`container "${id}" does not exist`);
      throw syscallError('read', file, err);
    }
    return JSON.parse(text) as ContainerRecord;
  }

  /**
   * state.json goes last: a removal cut short (a killed `delete`) leaves a record that the next
   * delete finds and finishes, never a directory without one.
   */
  async remove(id: string): Promise<void> {
    const dir = this.dir(id);
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch (err) {
      if (hasErrno(err, 'ENOENT')) return;
      throw syscallError('readdir', dir, err);
    }
    for (const entry of entries)
      if (entry !== 'state.json') rmSync(path.join(dir, entry), { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }

  /** Whether the container's directory exists (it may lack a record: a create killed just after reserve). */
  exists(id: string): boolean {
    return existsSync(this.dir(id));
  }

  async ids(): Promise<string[]> {
    try {
      const entries = readdirSync(this.root, { withFileTypes: true });
      return entries.filter((e) => e.isDirectory() && e.name !== SECCOMP_CACHE_DIR).map((e) => e.name);
    } catch (err) {
      if (hasErrno(err, 'ENOENT')) return [];
      throw syscallError('readdir', this.root, err);
    }
  }

  /** The container's status, from its init process and its exec fifo (as runc derives it). */
  async status(record: ContainerRecord): Promise<ContainerStatus> {
    if (record.pid === undefined) return 'creating';
    const liveness = await processLiveness(record.pid, record.pidStartTime);
    if (liveness !== 'alive') return 'stopped';
    // As runc: a live container whose freezer says frozen is paused, whoever froze it.
    if (await recordIsFrozen(record.cgroup)) return 'paused';
    if (record.started) return 'running';
    return (await exists(this.fifo(record.id))) ? 'created' : 'running';
  }

  async ociState(
    record: ContainerRecord,
  ): Promise<State & { created: string; owner: string; rootfs: string }> {
    const status = await this.status(record);
    return {
      ociVersion: OCI_RUNTIME_SPEC_VERSION,
      id: record.id,
      status,
      pid: status === 'stopped' || record.pid === undefined ? 0 : record.pid,
      bundle: record.bundle,
      rootfs: record.rootfs,
      created: record.created,
      owner: record.owner,
      annotations: record.annotations,
    };
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    statSync(file);
    return true;
  } catch {
    return false;
  }
}
