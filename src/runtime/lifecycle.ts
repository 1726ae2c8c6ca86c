import type { ChildProcess } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { constants as osConstants, userInfo } from 'node:os';
import path from 'node:path';
import {
  failedPrecondition,
  hasErrno,
  invalidArgument,
  type Logger,
  readProcStat,
  runtimeFailure,
  SkiffError,
  signalProcess,
  silentLogger,
  syscallError,
  waitForProcessExit,
  writeFileAtomic,
} from '../common/index.ts';
import type { ContainerStatus, DeviceCgroup, Process, Resources, Spec, State } from '../oci/index.ts';
import { parseSpec } from '../oci/index.ts';
import {
  type Cgroup,
  cgroupRecord,
  cgroupViews,
  createCgroup,
  destroyCgroup,
  detectLayout,
  killCgroup,
  loadCgroup,
} from './cgroups/index.ts';
import {
  applyExecOverrides,
  containerProcess,
  type ExecedProcess,
  type ExecOptions,
  type ExecOverrides,
  execProcess,
} from './exec.ts';
import { createRuntimeHooks, hookState, runHooksWarning } from './hooks.ts';
import { unmountQuietly } from './host-unmount.ts';
import { type MonitorOptions, monitorArgs, oomFileOf } from './monitor.ts';
import { thawContainer } from './operations.ts';
import { checkIntelRdt, compilePlan, encodePlan, HOOKS_SYNC, type RootfsMount } from './plan/index.ts';
import { joinIntelRdt, removeIntelRdt } from './resctrl.ts';
import { seccompCacheDir } from './seccomp-cache.ts';
import { type ContainerStdio, launchShim } from './shim.ts';
import { type ContainerRecord, StateStore } from './state.ts';

export interface CreateOptions {
  id: string;
  /** Bundle directory (holds config.json); default: the current directory. */
  bundle?: string;
  /**
   * The bundle's config.json as its writer already parsed and validated it (the engine), so it is
   * not read and validated a second time; it must be what config.json holds.
   */
  spec?: Spec;
  pidFile?: string;
  noPivot?: boolean;
  preserveFds?: number;
  /** The container's stdin, stdout, stderr (default: this process's). */
  stdio?: ContainerStdio;
  /** Keep the shim as the init's parent and let the caller wait for the container's exit. */
  foreground?: boolean;
  /** Unix socket that receives the pty master when process.terminal is true (runc --console-socket). */
  consoleSocket?: string;
  /**
   * Socket activation (runc: LISTEN_FDS with LISTEN_PID of the runtime): this many fds from 3 are
   * passed before the --preserve-fds ones, and the process gets LISTEN_FDS=n and LISTEN_PID=1.
   */
  listenFds?: number;
  /**
   * Leave the shim with the container as its monitor (log, attach socket, exit record); create
   * returns once the container is created and the shim lives on (src/runtime/monitor.ts).
   */
  monitor?: MonitorOptions;
  /**
   * The rootfs as mount specs (`mount -t TYPE SOURCE root.path -o OPTIONS`, in `cwd` when set) that
   * the shim mounts on root.path in the host's mount namespace, in order, before the init exists
   * (PLAN.md `host-mount`); needs `monitor`. A failed create leaves nothing mounted; unmounting after
   * the exit is the monitor's `unmount` or the caller's.
   */
  rootfsMounts?: readonly RootfsMount[];
}

export interface CreatedContainer {
  record: ContainerRecord;
  /** In foreground mode: resolves to the container's exit status (code, or 128 + signal). */
  exit?: Promise<number>;
}

export interface RuntimeOptions {
  /** State directory (runc's --root). */
  root: string;
  logger?: Logger;
}

/** Time allowed for a killed container to die before `delete --force` gives up. */
const KILL_TIMEOUT_MS = 10_000;

/**
 * The OCI runtime as a library: the lifecycle operations of the OCI Runtime Specification over
 * bundles. The runc-compatible CLI (./cli) and the engine call the same methods.
 */
export class Runtime {
  readonly store: StateStore;
  private readonly log: Logger;

  constructor(options: RuntimeOptions) {
    this.store = new StateStore(options.root);
    this.log = options.logger ?? silentLogger;
  }

  async create(options: CreateOptions): Promise<CreatedContainer> {
    if (options.monitor) checkMonitorOptions(options);
    checkRootfsMounts(options);
    const bundle = path.resolve(options.bundle ?? '.');
    const spec = options.spec ?? (await loadSpec(bundle));
    const dir = await this.store.reserve(options.id);
    const record: ContainerRecord = {
      id: options.id,
      bundle,
      rootfs: path.resolve(bundle, spec.root?.path ?? 'rootfs'),
      created: new Date().toISOString(),
      // uid 0 is root everywhere; anyone else is looked up (NSS costs a millisecond at start-up).
      owner: process.getuid?.() === 0 ? 'root' : userInfo().username,
      annotations: spec.annotations ?? {},
      ...(spec.hooks ? { hooks: spec.hooks } : {}),
      // Named before it is made (record.cgroup is written once all of it exists): a create killed
      // while it makes the cgroup leaves what delete needs to remove the part it made.
      ...(spec.linux?.cgroupsPath?.startsWith('/') ? { cgroupsPath: spec.linux.cgroupsPath } : {}),
    };
    let cgroup: Cgroup | undefined;
    let monitor: ChildProcess | undefined;
    try {
      await this.store.write(record);
      assertRootfs(record.rootfs);
      checkIntelRdt(spec, existsSync('/sys/fs/resctrl/schemata'));
      const layout = await detectLayout();
      cgroup = await createCgroup(layout, {
        cgroupsPath: spec.linux?.cgroupsPath,
        containerId: options.id,
        resources: withDefaultDevices(spec.linux?.resources),
      });
      for (const warning of cgroup.warnings) this.log.warn(warning, { id: options.id });
      record.cgroup = cgroupRecord(cgroup);
      await this.store.write(record);

      const plan = compilePlan({
        spec,
        bundle,
        fifo: this.store.fifo(options.id),
        preserveFds: passedFds(options),
        consoleSocket: options.consoleSocket,
        relayTerminal: (options.foreground ?? false) || options.monitor !== undefined,
        extraEnv: options.listenFds ? [`LISTEN_FDS=${options.listenFds}`, 'LISTEN_PID=1'] : [],
        noPivot: options.noPivot ?? false,
        cgroupProcs: cgroup.procsFiles,
        cgroupViews: cgroupViews(layout, cgroup),
        containerId: options.id,
        isDirectory,
        seccompCache: seccompCacheDir(this.store.root, spec),
        rootfsMounts: options.rootfsMounts,
      });
      const planFile = path.join(dir, 'plan');
      await writeFileAtomic(planFile, encodePlan(plan));
      this.log.debug('starting skiff-shim', { id: options.id, plan: planFile });

      const shim = await launchShim({
        planFile,
        foreground: options.foreground ?? false,
        preserveFds: passedFds(options),
        ...(options.stdio ? { stdio: options.stdio } : {}),
        ...(options.monitor
          ? { monitorArgs: monitorArgs(options.monitor, resolveOomFile(options.monitor, cgroup)) }
          : {}),
        onSync: (name, pid) =>
          name === HOOKS_SYNC ? createRuntimeHooks(record, spec.hooks, pid) : Promise.resolve(undefined),
      });
      if (options.monitor) monitor = shim.child;
      record.pid = shim.pid;
      record.pidStartTime = (await readProcStat(shim.pid))?.startTime;
      // The init still waits on the exec fifo: it joins before the program (or any child) exists.
      if (spec.linux?.intelRdt) record.intelRdt = joinIntelRdt(spec.linux.intelRdt, options.id, shim.pid);
      await this.store.write(record);
      if (options.pidFile) await writeFileAtomic(path.resolve(options.pidFile), `${shim.pid}`, 0o644);
      return { record, ...(options.foreground && !options.monitor ? { exit: exitStatus(shim.child) } : {}) };
    } catch (err) {
      // First the monitor: a create that failed is no exit to record and no cleanup to run.
      monitor?.kill('SIGKILL');
      await this.discard(record, cgroup);
      // Killed after a launch that succeeded, the monitor cannot undo the shim's `host-mount`s.
      if (monitor && options.rootfsMounts?.length)
        await unmountQuietly(record.rootfs, options.rootfsMounts.length);
      throw err;
    }
  }

  async start(id: string): Promise<void> {
    const record = await this.store.read(id);
    const status = await this.store.status(record);
    if (status !== 'created') {
      throw failedPrecondition(`cannot start container "${id}": it is ${status}, not created`);
    }
    const fifo = this.store.fifo(id);
    let fd: number;
    try {
      // Non-blocking: if the init is no longer waiting on the fifo, fail now rather than hang.
      fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (err) {
      if (hasErrno(err, 'ENXIO'))
        throw failedPrecondition(`cannot start container "${id}": its init is gone`);
      throw syscallError('open', fifo, err);
    }
    try {
      writeSync(fd, '0');
    } finally {
      closeSync(fd);
    }
    rmSync(fifo, { force: true });
    record.started = true;
    await this.store.write(record);
    await runHooksWarning('poststart', record.hooks, hookState(record, 'running', record.pid), (message) =>
      this.log.warn(message, { id }),
    );
  }

  async state(id: string): Promise<State> {
    return this.store.ociState(await this.store.read(id));
  }

  async list(): Promise<State[]> {
    const states: State[] = [];
    for (const id of await this.store.ids()) {
      try {
        states.push(await this.state(id));
      } catch (err) {
        // A container half-deleted by a concurrent command is not an error for `list`.
        if (!(err instanceof SkiffError && err.kind === 'NotFound')) throw err;
      }
    }
    return states;
  }

  async kill(id: string, signal: NodeJS.Signals | number, options: { all?: boolean } = {}): Promise<void> {
    const record = await this.store.read(id);
    const status = await this.store.status(record);
    if (status !== 'created' && status !== 'running' && status !== 'paused') {
      throw failedPrecondition(`cannot kill container "${id}": it is ${status}`);
    }
    if (options.all) {
      const layout = await detectLayout();
      if (!record.cgroup) throw failedPrecondition(`container "${id}" has no cgroup to signal`);
      await killCgroup(loadCgroup(layout, record.cgroup), signal);
      return;
    }
    signalProcess(record.pid!, signal);
    // A frozen process cannot act on SIGKILL until it is thawed (runc thaws too).
    if (status === 'paused' && (signal === 'SIGKILL' || signal === 9)) await thawContainer(record);
  }

  async delete(id: string, options: { force?: boolean } = {}): Promise<void> {
    let record: ContainerRecord;
    try {
      record = await this.store.read(id);
    } catch (err) {
      // A directory without a record: a create killed between reserving the id and writing it.
      if (options.force && err instanceof SkiffError && err.kind === 'NotFound' && this.store.exists(id)) {
        await this.store.remove(id);
        return;
      }
      throw err;
    }
    const status = await this.store.status(record);
    if ((status === 'running' || status === 'creating' || status === 'paused') && !options.force) {
      throw failedPrecondition(
        `cannot delete container "${id}": it is ${status}; stop it first or use --force`,
      );
    }
    if (status !== 'stopped' && record.pid !== undefined) {
      // As runc: a created container is killed and removed; a running one only with --force.
      await this.killAndWait(record);
    }
    if (record.cgroup) {
      const cgroup = loadCgroup(await detectLayout(), record.cgroup);
      await killCgroup(cgroup, 'SIGKILL');
      await destroyCgroup(cgroup);
    } else if (record.cgroupsPath) {
      // A create killed while it made the cgroup: no process is in it yet (the shim comes after).
      await destroyCgroup(loadCgroup(await detectLayout(), record.cgroupsPath));
    }
    removeIntelRdt(record.intelRdt);
    await this.store.remove(id);
    await runHooksWarning('poststop', record.hooks, hookState(record, 'stopped', undefined), (message) =>
      this.log.warn(message, { id }),
    );
  }

  /** create + start; in foreground, waits for the exit and deletes the container (runc run). */
  async run(options: CreateOptions & { keep?: boolean }): Promise<number | undefined> {
    const created = await this.create(options);
    try {
      await this.start(options.id);
    } catch (err) {
      await this.delete(options.id, { force: true });
      throw err;
    }
    if (!created.exit) return undefined;
    const status = await created.exit;
    if (!options.keep) await this.delete(options.id, { force: true });
    return status;
  }

  /** Runs a process in a created or running container (runc exec); see ./exec.ts. */
  async exec(id: string, proc: Process, options: ExecOptions = {}): Promise<ExecedProcess> {
    return execProcess(this.store, id, proc, options);
  }

  /** The process `exec` runs without --process: config.json's with the command line's changes. */
  async execProcessFor(id: string, overrides: ExecOverrides): Promise<Process> {
    return applyExecOverrides(await containerProcess(this.store, id), overrides);
  }

  async status(id: string): Promise<ContainerStatus> {
    return this.store.status(await this.store.read(id));
  }

  private async killAndWait(record: ContainerRecord): Promise<void> {
    signalProcess(record.pid!, 'SIGKILL');
    await thawContainer(record);
    if (!(await waitForProcessExit(record.pid!, record.pidStartTime, KILL_TIMEOUT_MS))) {
      throw runtimeFailure(`container "${record.id}" (pid ${record.pid}) did not die after SIGKILL`);
    }
  }

  /** Undoes a failed create: nothing of it may remain. */
  private async discard(record: ContainerRecord, cgroup: Cgroup | undefined): Promise<void> {
    try {
      if (record.pid !== undefined) await this.killAndWait(record);
      if (cgroup) {
        await killCgroup(cgroup, 'SIGKILL');
        await destroyCgroup(cgroup);
      }
      removeIntelRdt(record.intelRdt);
    } catch (err) {
      this.log.error('cleanup after a failed create left something behind', {
        id: record.id,
        error: String(err),
      });
    }
    await this.store.remove(record.id);
  }
}

// The device nodes every container gets (../plan/compile.ts) must also pass the devices cgroup,
// after the config's own rules, as runc's AllowedDevices.
const DEFAULT_ALLOWED_DEVICES: DeviceCgroup[] = [
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },
  { allow: true, type: 'c', major: 136, access: 'rwm' },
];

/** Socket-activation fds come first (3 …), then the --preserve-fds ones, as runc's ExtraFiles. */
function passedFds(options: CreateOptions): number {
  return (options.listenFds ?? 0) + (options.preserveFds ?? 0);
}

function withDefaultDevices(resources: Resources | undefined): Resources | undefined {
  if (!resources?.devices) return resources;
  return { ...resources, devices: [...resources.devices, ...DEFAULT_ALLOWED_DEVICES] };
}

async function loadSpec(bundle: string): Promise<Spec> {
  const file = path.join(bundle, 'config.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) {
      throw invalidArgument(
        `no config.json in bundle \`${bundle}\`: pass --bundle, or write one with \`spec\``,
      );
    }
    throw syscallError('read', file, err);
  }
  return parseSpec(text, file);
}

function assertRootfs(rootfs: string): void {
  let isDir: boolean;
  try {
    isDir = statSync(rootfs).isDirectory();
  } catch (err) {
    throw new SkiffError('NotFound', `rootfs \`${rootfs}\` does not exist: check root.path in config.json`, {
      cause: err,
    });
  }
  if (!isDir)
    throw invalidArgument(`rootfs \`${rootfs}\` is not a directory: check root.path in config.json`);
}

function isDirectory(hostPath: string): boolean {
  try {
    return statSync(hostPath).isDirectory();
  } catch (err) {
    throw new SkiffError('NotFound', `bind mount source \`${hostPath}\` does not exist`, { cause: err });
  }
}

function exitStatus(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    const done = (code: number | null, signal: NodeJS.Signals | null) =>
      resolve(code ?? 128 + (signal ? osSignalNumber(signal) : 0));
    if (child.exitCode !== null || child.signalCode !== null) done(child.exitCode, child.signalCode);
    else child.once('exit', done);
  });
}

function osSignalNumber(signal: NodeJS.Signals): number {
  return osConstants.signals[signal] ?? 0;
}

/** 'auto': the OOM counter of the cgroup made for the container (none without a memory controller). */
function resolveOomFile(monitor: MonitorOptions, cgroup: Cgroup): string | undefined {
  return monitor.oomFile === 'auto' ? oomFileOf(cgroup.dirs) : monitor.oomFile;
}

/** The monitor makes the container's stdio and terminal itself: the options that would say otherwise. */
function checkMonitorOptions(options: CreateOptions): void {
  for (const field of ['stdio', 'foreground', 'consoleSocket'] as const) {
    if (options[field] !== undefined && options[field] !== false) {
      throw invalidArgument(`create: ${field} and monitor exclude each other (the monitor holds the stdio)`);
    }
  }
  monitorArgs(options.monitor!, undefined); // checks the numbers and the exit command up front
}

/** The shim undoes its `host-mount`s only as a monitor, which sees the whole create through. */
function checkRootfsMounts(options: CreateOptions): void {
  if (options.rootfsMounts?.length && !options.monitor)
    throw invalidArgument(
      'create: rootfsMounts needs monitor (the monitor unmounts them when the create fails)',
    );
}
