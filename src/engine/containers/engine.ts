/**
 * The engine's containers (DESIGN.md, "Process model of `skiff run`"): records in SQLite, a rootfs
 * snapshot per container, an OCI bundle written at each start, the runtime library to create the
 * container under a detached monitor (skiff-shim), and the cleanup after it exits. Every public step
 * holds the container's lease (./lock.ts) so that concurrent commands never interleave on one.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import {
  type Database,
  failedPrecondition,
  invalidArgument,
  type Logger,
  notFound,
  processLiveness,
  SkiffError,
  silentLogger,
  waitForProcessExit,
} from '../../common/index.ts';
import {
  createSnapshotter,
  exportRootfs,
  type ImageStore,
  mountSnapshot,
  type Snapshotter,
  unmountSnapshot,
} from '../../image/index.ts';
import {
  ALL_CAPABILITIES,
  type ExecedProcess,
  parseSignal,
  Runtime,
  resumeContainer,
  updateContainer,
} from '../../runtime/index.ts';
import { type ContainerSide, type CopyOptions, copyIn, copyOut, withContainerSide } from '../cp/index.ts';
import { openEngineDb } from '../db.ts';
import type { ContainerConfig, HostConfig } from '../docker-types.ts';
import { containerEventAttributes, EventLog } from '../events/index.ts';
import { HealthStore } from '../health/store.ts';
import { type ExitRecord, readExitFile } from '../monitor/index.ts';
import { removeAnonymousVolumes } from '../mounts.ts';
import {
  connectNetwork,
  disconnectContainer,
  disconnectNetwork,
  type EndpointConfig,
  type EndpointsConfig,
  openNetworks,
  readNetworkState,
} from '../networks/index.ts';
import {
  containerDir,
  containerLog,
  containerRootfs,
  type EnginePaths,
  enginePaths,
  runtimeStateRoot,
  shimDir,
} from '../paths.ts';
import { defaultHostname, resolveUser } from '../spec/index.ts';
import { VolumeStore } from '../volumes/index.ts';
import { openImages } from './images.ts';
import { isStaleOwner, selfOwner, withContainerLock } from './lock.ts';
import { checkName, newContainerId, randomName } from './names.ts';
import { freeze, isPaused, type TopResult, thaw, top } from './pause.ts';
import { type Container, ContainerRecords } from './records.ts';
import {
  isRestarting,
  MANUAL_NONE,
  MANUAL_SIGNAL,
  MANUAL_STOP,
  restartAfterExit,
  restartAtBoot,
  validateRestartPolicy,
} from './restart-policy.ts';
import { prepareContainer, startContainerProcess } from './start.ts';
import { pausePoint } from './test-pause.ts';
import { cgroupUpdate, mergeResourceUpdate, type ResourceUpdate } from './update.ts';

export interface EngineOptions {
  root?: string;
  runroot?: string;
  logger?: Logger;
  /** The `skiff` command the monitor runs after an exit (default: this checkout's bin/skiff). */
  cli?: readonly string[];
}

export interface CreateRequest {
  name?: string;
  config: ContainerConfig;
  hostConfig: HostConfig;
  /** --pull: when the image may be fetched from a registry. */
  pull?: 'missing' | 'always' | 'never';
  /** docker's NetworkingConfig: per network, --ip and --network-alias. */
  networking?: { EndpointsConfig?: EndpointsConfig };
  /** Where a pull's progress lines go (default: this process's stderr). */
  pullLog?: (text: string) => void;
}

export interface ExecRequest {
  cmd: string[];
  tty?: boolean;
  /** Keep stdin open (docker exec -i). */
  stdin?: boolean;
  detach?: boolean;
  env?: string[];
  workdir?: string;
  user?: string;
  privileged?: boolean;
}

export interface StartHooks {
  /** Called once the container is created and before its program starts (attach here). */
  beforeStart?: (monitorDir: string, container: Container) => Promise<void>;
}

const DEFAULT_STOP_TIMEOUT_S = 10;

const KILL_WAIT_MS = 10_000;

export class Engine {
  readonly paths: EnginePaths;
  readonly records: ContainerRecords;
  readonly runtime: Runtime;
  readonly log: Logger;
  private readonly cli: readonly string[];
  private images?: ImageStore;

  readonly volumes: VolumeStore;
  readonly events: EventLog;
  private readonly db: Database;

  private constructor(options: EngineOptions, db: Database) {
    this.db = db;
    this.paths = enginePaths(options.root, options.runroot);
    this.records = new ContainerRecords(db);
    this.volumes = new VolumeStore(db, this.paths);
    this.runtime = new Runtime({ root: runtimeStateRoot(this.paths), logger: options.logger });
    this.log = options.logger ?? silentLogger;
    this.events = new EventLog(db, (err) => this.log.warn(`recording an event: ${(err as Error).message}`));
    this.cli = options.cli ?? defaultCli();
  }

  /** Opens the engine's records and recovers what interrupted commands left (see recover()). */
  static async open(options: EngineOptions = {}): Promise<Engine> {
    const paths = enginePaths(options.root, options.runroot);
    const db = openEngineDb(paths.root);
    const engine = new Engine(options, db);
    try {
      await engine.recover();
    } catch (err) {
      engine.close();
      throw err;
    }
    return engine;
  }

  /**
   * Finishes or undoes the steps of processes that died holding a container's lease (a CLI killed
   * during create, start, stop or rm): what they left (runtime state, monitor, mounts) is released and
   * the record made true again. Every command runs this first; with no stale lease it is one query.
   * A command that was already waiting for the lease when its holder died does the same when it
   * takes the lease over (see lock()).
   */
  async recover(): Promise<void> {
    for (const { id, op } of this.records.staleLocks(isStaleOwner)) {
      // Taking the lease over runs recoverLocked. A half-made container keeps its 'create' lease
      // while it is undone, so that a recovery killed in turn still knows to undo it.
      await this.lock(id, op === 'create' ? 'create' : 'recover', async () => undefined);
    }
  }

  /** withContainerLock, recovering what a dead holder of the lease left before fn runs. */
  private lock<T>(id: string, op: string, fn: () => Promise<T>): Promise<T | undefined> {
    return withContainerLock(this.records, id, op, fn, (deadOp) => this.recoverLocked(id, deadOp));
  }

  /** What a command that died in step `op` left of container `id` is finished or undone. */
  private async recoverLocked(id: string, op: string): Promise<void> {
    const c = this.records.get(id);
    if (!c) return;
    // A create that died before it finished (no snapshot, volumes or /etc files yet, or only
    // some): undone, as the failed create would have undone itself.
    if (op === 'create') return this.discard(c);
    if (c.state === 'removing') return this.removeLocked(c, { volumes: false });
    // A start killed after it released the program: the record follows the run, below.
    if (op === 'start' || op === 'restart') await this.adoptStarted(c);
    if (c.state === 'running') {
      const now = await this.refresh(c, { cleanup: false });
      if (now.state !== 'running' && !(await isMonitorAlive(shimDir(this.paths, id))))
        await this.cleanupLocked(id, { autoRemove: true });
      return;
    }
    await this.releaseResources(c);
  }

  /**
   * A start killed after the runtime released the program but before the record said so: the
   * record is made 'running' with the runtime's pid, so that the container runs on as the user
   * asked (rather than being killed to match a record that says 'created'), or, if it has ended,
   * its exit is recorded like any other. Killed before the release, the init still waits on its
   * exec fifo and the start is undone. A no-op for a container the runtime holds nothing of.
   */
  private async adoptStarted(c: Container): Promise<void> {
    if (c.state === 'running') return;
    const record = await this.runtime.store.read(c.id).catch(() => undefined);
    if (record?.pid === undefined) return;
    const released = record.started || (await this.runtime.store.status(record)) === 'running';
    if (!released) return;
    c.state = 'running';
    c.pid = record.pid;
    c.pidStartTime = record.pidStartTime;
    // The runtime's create, moments before the start (the start itself left no time behind).
    c.startedAt = record.created;
    c.exitCode = 0;
    c.oomKilled = false;
    c.error = undefined;
    this.records.update(c);
  }

  close(): void {
    this.images?.close();
    this.db.close();
  }

  async imageStore(): Promise<ImageStore> {
    this.images ??= await openImages(this.paths.root);
    return this.images;
  }

  snapshotter(): Snapshotter {
    return createSnapshotter(undefined, this.paths.root);
  }

  // ---- create -------------------------------------------------------------------------------

  async create(request: CreateRequest): Promise<Container> {
    if (request.hostConfig.AutoRemove && hasPolicy(request.hostConfig.RestartPolicy?.Name))
      throw invalidArgument("can't create 'AutoRemove' container with restart policy");
    validateRestartPolicy(request.hostConfig.RestartPolicy);
    const prepared = await prepareContainer(this, request);
    const name = request.name !== undefined ? checkName(request.name) : this.freeName();
    const id = newContainerId();
    const container: Container = {
      id,
      name,
      image: request.config.Image ?? '',
      imageId: prepared.imageId,
      created: new Date().toISOString(),
      state: 'created',
      oomKilled: false,
      restartCount: 0,
      // dockerd records the hostname it chose, so inspect and /etc/hostname agree.
      config: {
        ...prepared.config,
        Hostname: prepared.config.Hostname || defaultHostname(id, request.hostConfig),
      },
      hostConfig: request.hostConfig,
      mounts: [],
    };
    // The row is born holding the 'create' lease (taken again just below, by its holder): a create
    // killed at any point before it finishes leaves a stale 'create' lease, which the next command's
    // recover() undoes. (A lease taken after the insert left a window with a bare 'created' row.)
    this.records.insert(container, { owner: selfOwner(), op: 'create' });
    const made = await this.lock(id, 'create', async () => {
      pausePoint('create:inserted');
      try {
        await prepared.materialise(container);
        this.records.update(container);
      } catch (err) {
        await this.discard(container).catch((e) =>
          this.log.error('undoing a failed create', { error: String(e) }),
        );
        throw err;
      }
      this.emitContainer(container, 'create');
      return container;
    });
    return made ?? this.gone(id);
  }

  private freeName(): string {
    for (let attempt = 0; ; attempt++) {
      const name = randomName(attempt);
      if (!this.records.findByName(name)) return name;
    }
  }

  // ---- start --------------------------------------------------------------------------------

  async start(ref: string, hooks: StartHooks = {}): Promise<Container> {
    const id = this.records.resolve(ref).id;
    const done = await this.lock(id, 'start', () => this.startLocked(id, hooks));
    return done ?? this.gone(ref);
  }

  /**
   * policy: a start by the restart policy (keeps RestartCount and the back-off); any other start is
   * the user's, which resets them and the manual stop, as moby's ResetRestartManager.
   */
  private async startLocked(id: string, hooks: StartHooks, policy = false): Promise<Container> {
    const c = await this.refresh(this.mustGet(id), { cleanup: false });
    if (c.state === 'running') return c;
    // docker: a restarting container counts as running, so a start by the user changes nothing.
    if (!policy && isRestarting(c)) return c;
    if (c.state === 'removing')
      throw failedPrecondition(`container ${id} is marked for removal and cannot be started`);
    await this.releaseResources(c);
    try {
      await startContainerProcess(this, c, this.exitCommand(c.id), hooks);
    } catch (err) {
      await this.releaseResources(c).catch(() => undefined);
      // moby: a restart whose start fails leaves the container stopped, not retried.
      c.restartWaiter = undefined;
      c.error = err instanceof Error ? err.message : String(err);
      c.exitCode = startFailureCode(err);
      this.records.update(c);
      throw err;
    }
    c.error = undefined;
    c.restartWaiter = undefined;
    if (!policy) {
      c.restartCount = 0;
      c.restartDelayMs = 0;
      c.manualStop = MANUAL_NONE;
    }
    this.records.update(c);
    this.emitContainer(c, 'start');
    return c;
  }

  private exitCommand(id: string): string[] {
    return [
      ...this.cli,
      '--root',
      this.paths.root,
      '--runroot',
      this.paths.runroot,
      'container',
      'cleanup',
      id,
    ];
  }

  // ---- stop / kill / restart ----------------------------------------------------------------

  async stop(ref: string, options: { timeout?: number; signal?: string } = {}): Promise<Container> {
    const id = this.records.resolve(ref).id;
    const done = await this.lock(id, 'stop', async () => {
      const record = this.mustGet(id);
      const c = await this.refresh(record, { cleanup: false });
      // Docker's stop of a restarting container cancels the restart: a stop too.
      const stopping = record.state === 'running' || isRestarting(record);
      this.cancelRestart(c);
      if (c.state === 'running') await this.stopProcess(c, options);
      const after = await this.cleanupLocked(c.id, { autoRemove: true });
      if (stopping) this.emitContainer(after ?? c, 'stop');
      return after;
    });
    return done ?? this.gone(ref);
  }

  private async stopProcess(c: Container, options: { timeout?: number; signal?: string }): Promise<void> {
    const signal = parseSignal(options.signal ?? c.config.StopSignal ?? 'SIGTERM');
    const timeoutS = options.timeout ?? c.config.StopTimeout ?? DEFAULT_STOP_TIMEOUT_S;
    await this.signal(c, signal, true);
    pausePoint('stop:signalled');
    if (timeoutS >= 0 && (await this.waitExited(c, timeoutS * 1000))) return;
    await this.signal(c, 'SIGKILL', true);
    pausePoint('stop:killed');
    if (!(await this.waitExited(c, KILL_WAIT_MS)))
      throw failedPrecondition(`container ${c.id.slice(0, 12)} did not stop after SIGKILL`);
  }

  /**
   * `docker kill`: the signal, recorded as a stop by the user (moby's killWithSignal): SIGKILL or the
   * container's stop signal cancel its restart policy; another signal only keeps unless-stopped down.
   * A restarting container gets no signal: its pending restart is cancelled.
   */
  async kill(ref: string, signal: string = 'SIGKILL'): Promise<Container> {
    const c = await this.refresh(this.records.resolve(ref));
    const sig = parseSignal(signal);
    if (c.state !== 'running' && !isRestarting(c))
      throw failedPrecondition(`Cannot kill container: ${ref}: Container ${c.id} is not running`);
    const stopSignal = parseSignal(c.config.StopSignal || 'SIGTERM');
    const cancels =
      !c.config.StopSignal || signalNumber(sig) === 9 || signalNumber(sig) === signalNumber(stopSignal);
    this.records.markManualStop(c.id, cancels || c.state !== 'running' ? MANUAL_STOP : MANUAL_SIGNAL);
    // moby sends nothing to a restarting container (and logs no kill): the cancel is enough.
    if (c.state === 'running') await this.signal(c, sig, true);
    return c;
  }

  /**
   * stop + start under one lease, so that the exit command of the stopped run, which waits for the
   * lease, finds the new run and leaves it (and an --rm container is not removed, as with docker).
   */
  async restart(ref: string, options: { timeout?: number; signal?: string } = {}): Promise<Container> {
    const id = this.records.resolve(ref).id;
    const done = await this.lock(id, 'restart', async () => {
      const c = await this.refresh(this.mustGet(id), { cleanup: false });
      this.cancelRestart(c);
      if (c.state === 'running') {
        await this.stopProcess(c, options);
        const stopped = await this.cleanupLocked(id, { autoRemove: false });
        this.emitContainer(stopped ?? c, 'stop');
      } else await this.cleanupLocked(id, { autoRemove: false });
      pausePoint('restart:stopped');
      // A start by the user: RestartCount (policy restarts only) starts again from 0, as docker's.
      const started = await this.startLocked(id, {});
      this.emitContainer(started, 'restart');
      return started;
    });
    return done ?? this.gone(ref);
  }

  /** Sends signal; with event, records Docker's `kill` event (signal number) once it was sent. */
  private async signal(c: Container, signal: NodeJS.Signals | number, event = false): Promise<void> {
    try {
      await this.runtime.kill(c.id, signal);
      // dockerd: a paused container sent SIGKILL or its stop signal is resumed to act on it.
      if (isStopSignal(c, signal) && (await isPaused(this.runtime, c)))
        await resumeContainer(this.runtime.store, c.id);
    } catch (err) {
      // The process ended between our look and the signal: stop has nothing left to do.
      if (!(err instanceof SkiffError && (err.kind === 'FailedPrecondition' || err.kind === 'NotFound')))
        throw err;
      return;
    }
    if (event) this.emitContainer(c, 'kill', { signal: String(signalNumber(signal)) });
  }

  /**
   * A stop by the user (stop, restart, rm -f): no policy restart, and a pending one dropped. Only
   * those columns are written: c may be a refreshed view whose exit is not recorded yet.
   */
  private cancelRestart(c: Container): void {
    c.manualStop = MANUAL_STOP;
    c.restartWaiter = undefined;
    this.records.markManualStop(c.id, MANUAL_STOP);
  }

  /** Waits for the container's process to end (its monitor writes the exit file). */
  private async waitExited(c: Container, timeoutMs: number): Promise<boolean> {
    if (c.pid === undefined) return true;
    return waitForProcessExit(c.pid, c.pidStartTime, timeoutMs);
  }

  // ---- wait / cleanup -----------------------------------------------------------------------

  /** `docker wait`: resolves to the exit code once the container is not running. */
  async wait(ref: string): Promise<number> {
    let c = this.records.resolve(ref);
    let delay = 10;
    for (;;) {
      c = await this.refresh(c);
      if (c.state !== 'running') return c.exitCode ?? 0;
      const exit = await readExitFile(shimDir(this.paths, c.id));
      if (exit) return exit.exitCode;
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 100);
      const again = this.records.get(c.id);
      if (!again) return c.exitCode ?? 0;
      c = again;
    }
  }

  /**
   * After the container's process ended: records its exit, releases the runtime state, cgroup and
   * rootfs mount, and removes an --rm container. Run by the monitor's exit command and by an
   * attached `run`; idempotent.
   */
  async cleanup(ref: string): Promise<Container | undefined> {
    const existing = this.records.get(ref) ?? this.records.resolve(ref);
    return this.lock(existing.id, 'cleanup', () => this.cleanupLocked(existing.id, { autoRemove: true }));
  }

  private async cleanupLocked(id: string, options: { autoRemove: boolean }): Promise<Container | undefined> {
    const c = this.records.get(id);
    if (!c) return undefined;
    if (c.state === 'running') {
      const dir = shimDir(this.paths, id);
      let exit = await readExitFile(dir);
      const alive = c.pid !== undefined && (await processLiveness(c.pid, c.pidStartTime)) === 'alive';
      if (!exit && alive) return c; // still running: nothing to clean up yet
      // The init is gone but its monitor may still be draining the pipes before it writes the exit
      // record: wait for the record while the monitor lives (it gives up draining after 200 ms).
      for (let waited = 0; !exit && waited < 3000; waited += 20) {
        const monitorAlive = await isMonitorAlive(dir);
        // Read after the liveness look: a monitor that has just ended wrote its record first.
        exit = await readExitFile(dir);
        if (exit || !monitorAlive) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      applyExit(c, exit);
      this.recordExitEvents(c);
      // moby's handleContainerExit: the policy decides now; the monitor's cleanup waits and starts.
      const delay = options.autoRemove ? restartAfterExit(c) : undefined;
      if (delay !== undefined) {
        c.restartCount++;
        c.restartDelayMs = delay;
        c.restartWaiter = 'due';
      }
    }
    await this.releaseResources(c);
    this.records.update(c);
    if (options.autoRemove && c.hostConfig.AutoRemove) {
      await this.removeLocked(c, { volumes: true });
      return undefined;
    }
    return c;
  }

  /** Runtime state, cgroup, monitor dir and rootfs mount of the last run (none left after). */
  private async releaseResources(c: Container): Promise<void> {
    try {
      await this.runtime.delete(c.id, { force: true });
    } catch (err) {
      if (!(err instanceof SkiffError && err.kind === 'NotFound')) throw err;
    }
    await unmountRootfs(containerRootfs(this.paths, c.id));
    const attached = readNetworkState(this.paths, c.id)?.attachments ?? [];
    await disconnectContainer(this.paths, c, () => this.records.list());
    for (const a of attached) this.emitNetwork('disconnect', a.network, a.networkId, c.id);
    // A monitor still ending (the init was just killed) may write its exit record in the meantime.
    await fs.rm(shimDir(this.paths, c.id), { recursive: true, force: true, maxRetries: 10, retryDelay: 20 });
  }

  // ---- remove -------------------------------------------------------------------------------

  async remove(ref: string, options: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const id = this.records.resolve(ref).id;
    await this.lock(id, 'remove', async () => {
      const record = this.mustGet(id);
      const c = await this.refresh(record, { cleanup: false });
      // An exit not recorded yet that its policy will restart: docker's daemon still counts the
      // container running until it handled the exit, then restarting.
      const unrecorded = record.state === 'running' && c.state !== 'running';
      if ((isRestarting(c) || (unrecorded && restartAfterExit(c) !== undefined)) && !options.force)
        throw failedPrecondition(
          `cannot remove container "/${c.name}": container is restarting: stop the container before removing or force remove`,
        );
      if (unrecorded) {
        // Recorded here (its die event with it); the monitor's cleanup then finds it gone.
        this.cancelRestart(c);
        await this.cleanupLocked(c.id, { autoRemove: false });
      }
      if (c.state === 'running') {
        if (!options.force)
          throw failedPrecondition(
            `cannot remove container "/${c.name}": container is running: stop the container before removing or force remove`,
          );
        this.cancelRestart(c);
        await this.signal(c, 'SIGKILL', true);
        pausePoint('rm:killed');
        if (!(await this.waitExited(c, KILL_WAIT_MS)))
          throw failedPrecondition(`container ${c.id.slice(0, 12)} did not die after SIGKILL`);
        await this.cleanupLocked(c.id, { autoRemove: false });
      }
      await this.removeLocked(this.mustGet(id), options);
    });
  }

  private async removeLocked(c: Container, options: { volumes?: boolean; silent?: boolean }): Promise<void> {
    c.state = 'removing';
    this.records.update(c);
    pausePoint('rm:removing');
    await this.releaseResources(c);
    await this.snapshotter()
      .remove(c.id)
      .catch((err: unknown) => {
        if (!(err instanceof SkiffError && err.kind === 'NotFound')) throw err;
      });
    await fs.rm(containerDir(this.paths, c.id), { recursive: true, force: true });
    this.records.delete(c.id);
    if (!options.silent) this.emitContainer(c, 'destroy');
    if (options.volumes) await this.removeAnonymousVolumes(c);
  }

  private async removeAnonymousVolumes(c: Container): Promise<void> {
    await removeAnonymousVolumes(this.volumes, c.mounts);
  }

  /** Undoes a failed create. */
  private async discard(c: Container): Promise<void> {
    // Its create event was never recorded: neither is a destroy.
    await this.removeLocked(c, { volumes: true, silent: true });
  }

  // ---- exec ---------------------------------------------------------------------------------

  /** `docker exec`: a process in the running container, from its config.json's process. */
  async exec(ref: string, options: ExecRequest): Promise<ExecedProcess> {
    const c = await this.refresh(this.records.resolve(ref));
    if (c.state !== 'running') throw failedPrecondition(`container ${c.id} is not running`);
    // A process joining a frozen cgroup would hang until the thaw: dockerd refuses, as here.
    if (await isPaused(this.runtime, c))
      throw failedPrecondition(`Container ${c.id} is paused, unpause the container before exec`);
    const user = options.user
      ? await resolveUser(containerRootfs(this.paths, c.id), options.user)
      : undefined;
    const proc = await this.runtime.execProcessFor(c.id, {
      args: options.cmd,
      terminal: options.tty ?? false,
      env: options.env ?? [],
      ...(options.workdir ? { cwd: options.workdir } : {}),
      ...(user ? { user: { uid: user.uid, gid: user.gid }, additionalGids: user.additionalGids } : {}),
      ...(options.privileged ? { capabilities: [...ALL_CAPABILITIES] } : {}),
    });
    const detach = options.detach ?? false;
    // Docker's exec events: the action carries the command line, the attributes the exec's ID.
    const execId = randomBytes(32).toString('hex');
    const commandLine = options.cmd.join(' ');
    this.emitContainer(c, `exec_create: ${commandLine}`, { execID: execId });
    const execed = await this.runtime.exec(c.id, proc, {
      detach,
      stdio: [
        options.stdin && !detach ? 'inherit' : 'ignore',
        detach ? 'ignore' : 'inherit',
        detach ? 'ignore' : 'inherit',
      ],
    });
    this.emitContainer(c, `exec_start: ${commandLine}`, { execID: execId });
    // A detached exec is nobody's child here: its end is not seen, so no exec_die for it.
    execed.exit?.then(
      (code) => this.emitContainer(c, 'exec_die', { execID: execId, exitCode: String(code) }),
      () => undefined,
    );
    return execed;
  }

  // ---- export -------------------------------------------------------------------------------

  /** `docker export`: the container's merged root filesystem as a tar stream. */
  async export(ref: string, output: Writable | string): Promise<void> {
    const id = this.records.resolve(ref).id;
    const store = await this.imageStore();
    const rootfs = containerRootfs(this.paths, id);
    await this.lock(id, 'export', async () => {
      const c = await this.refresh(this.mustGet(id), { cleanup: false });
      // A stopped container's snapshot is mounted for the copy only.
      const mountedHere = c.state !== 'running';
      if (mountedHere) await mountRootfs(await this.snapshotter().mounts(id), rootfs);
      try {
        await exportRootfs(store, { rootfs }, output);
      } finally {
        if (mountedHere) await unmountRootfs(rootfs);
      }
    });
  }

  // ---- reading ------------------------------------------------------------------------------

  /** A container with its state brought up to date (an exit its cleanup has not recorded yet). */
  async inspect(ref: string): Promise<Container> {
    return this.refresh(this.records.resolve(ref));
  }

  async list(): Promise<Container[]> {
    const all = this.records.list();
    return Promise.all(all.map((c) => this.refresh(c)));
  }

  /**
   * Reconciles a 'running' record with the processes: an exit file means it ended (apply it); no
   * init and no monitor means both were killed (mark it exited). With cleanup, also releases what
   * the run held when nobody else will (its monitor is gone).
   */
  async refresh(c: Container, options: { cleanup?: boolean } = {}): Promise<Container> {
    if (c.state !== 'running') return c;
    const dir = shimDir(this.paths, c.id);
    let exit = await readExitFile(dir);
    if (!exit) {
      const alive = c.pid !== undefined && (await processLiveness(c.pid, c.pidStartTime)) === 'alive';
      if (alive) return c;
    }
    const monitorAlive = await isMonitorAlive(dir);
    // The monitor may have written the record and ended since the first look.
    if (!exit) exit = await readExitFile(dir);
    // The init is gone, its monitor still drains the output: the exit record is moments away.
    if (!exit && monitorAlive) return c;
    if (options.cleanup !== false && !monitorAlive) {
      // Nobody will run the exit command: do its work now (if nobody else is at it).
      const cleaned = await this.lock(c.id, 'cleanup', () =>
        this.cleanupLocked(c.id, { autoRemove: true }),
      ).catch(() => undefined);
      if (cleaned) return cleaned;
    }
    const view = { ...c, mounts: c.mounts };
    applyExit(view, exit);
    return view;
  }

  mustGet(id: string): Container {
    const c = this.records.get(id);
    if (!c) throw notFound(`No such container: ${id}`);
    return c;
  }

  private gone(ref: string): never {
    throw notFound(`No such container: ${ref}`);
  }

  paths_(c: Container) {
    return {
      dir: containerDir(this.paths, c.id),
      rootfs: containerRootfs(this.paths, c.id),
      log: containerLog(this.paths, c.id),
      monitor: shimDir(this.paths, c.id),
    };
  }

  // ---- events, restart policies, rename, prune, boot (issue 5) ------------------------------

  /** Records a container event with Docker's attributes (labels, image, name). */
  /** docker's network events: Actor is the network, the container in the attributes. */
  emitNetwork(action: string, name: string, id: string, containerId?: string): void {
    this.events.emit('network', action, id, {
      ...(containerId ? { container: containerId } : {}),
      name,
      type: 'bridge',
    });
  }

  emitContainer(c: Container, action: string, extra: Record<string, string> = {}): void {
    this.events.emit('container', action, c.id, containerEventAttributes(c, extra));
  }

  /** The events of an exit just recorded: `oom` first when the kernel killed it, then `die`. */
  private recordExitEvents(c: Container): void {
    if (c.oomKilled) this.emitContainer(c, 'oom');
    const ran = Date.parse(c.finishedAt ?? '') - Date.parse(c.startedAt ?? '');
    this.emitContainer(c, 'die', {
      exitCode: String(c.exitCode ?? 0),
      execDuration: String(Number.isFinite(ran) ? Math.max(0, Math.floor(ran / 1000)) : 0),
    });
  }

  /**
   * The monitor's exit command (`container cleanup`): records the exit (cleanup), then, when the
   * restart policy asked for a restart, waits out the back-off and starts the container again — the
   * same container, under a new monitor. No lease is held while waiting: `stop`, `kill`, `restart`
   * and `rm -f` meanwhile drop the claim (restart_waiter), and the start after the wait happens
   * only if this process's claim is still there. Returns the container as last seen.
   */
  async cleanupAfterExit(ref: string): Promise<Container | undefined> {
    const id = (this.records.get(ref) ?? this.records.resolve(ref)).id;
    const token = selfOwner();
    let delay: number | undefined;
    const cleaned = await this.lock(id, 'cleanup', async () => {
      const c = await this.cleanupLocked(id, { autoRemove: true });
      // 'due': an exit recorded (by us or by a `ps` that came first) that nobody waits on yet.
      if (c?.restartWaiter === 'due' && c.state === 'exited') {
        c.restartWaiter = token;
        this.records.update(c);
        delay = c.restartDelayMs ?? 0;
      }
      return c;
    });
    if (delay === undefined) return cleaned;
    await new Promise((resolve) => setTimeout(resolve, delay));
    return this.lock(id, 'restart', async () => {
      const c = this.records.get(id);
      if (!c || c.restartWaiter !== token || c.state !== 'exited') return c;
      return this.startLocked(id, {}, true);
    });
  }

  /** `docker rename`: a new name for a container in any state; event `rename` (oldName). */
  async rename(ref: string, newName: string): Promise<Container> {
    if (ref === '' || newName === '') throw invalidArgument('Neither old nor new names may be empty');
    const id = this.records.resolve(ref).id;
    const done = await this.lock(id, 'rename', async () => {
      const c = this.mustGet(id);
      const name = checkName(newName.replace(/^\//, ''));
      if (name === c.name)
        throw invalidArgument('Renaming a container with the same name as its current name');
      this.records.rename(id, name);
      const renamed = this.mustGet(id);
      this.emitContainer(renamed, 'rename', { oldName: `/${c.name}` });
      return renamed;
    });
    return done ?? this.gone(ref);
  }

  // ---- networks (issue 7) -------------------------------------------------------------------

  /** `network connect`: the container joins the network now if it runs, and at every start. */
  async connectNetwork(ref: string, networkRef: string, cfg: EndpointConfig = {}): Promise<void> {
    const id = this.records.resolve(ref).id;
    const network = await openNetworks(this.paths).get(networkRef);
    await this.lock(id, 'network-connect', async () => {
      const c = await this.refresh(this.mustGet(id), { cleanup: false });
      await connectNetwork(this.paths, c, network, cfg, () => this.records.list());
      this.emitNetwork('connect', network.name, network.id, c.id);
    });
  }

  /** `network disconnect`: the container leaves the network now if it runs, and for good. */
  async disconnectNetwork(ref: string, networkRef: string): Promise<void> {
    const id = this.records.resolve(ref).id;
    const network = await openNetworks(this.paths).get(networkRef);
    await this.lock(id, 'network-disconnect', async () => {
      const c = await this.refresh(this.mustGet(id), { cleanup: false });
      await disconnectNetwork(this.paths, c, network, () => this.records.list());
      this.emitNetwork('disconnect', network.name, network.id, c.id);
    });
  }

  // ---- health (../health/) ------------------------------------------------------------------

  private healthStore?: HealthStore;

  /** The containers' health records (State.Health). */
  get healthRecords(): HealthStore {
    this.healthStore ??= new HealthStore(this.db);
    return this.healthStore;
  }

  /** The command the monitor's timer runs for each health check of container `id`. */
  healthCheckCommand(id: string): string[] {
    return [
      ...this.cli,
      '--root',
      this.paths.root,
      '--runroot',
      this.paths.runroot,
      'container',
      'healthcheck',
      id,
    ];
  }

  // ---- pause / unpause / top / update (./pause.ts, ./update.ts) ------------------------------

  /** `docker pause`: freezes every process of the running container (its cgroup's freezer). */
  async pause(ref: string): Promise<Container> {
    return this.freezerStep(ref, 'pause', (c) => freeze(this.runtime, c));
  }

  /** `docker unpause`. */
  async unpause(ref: string): Promise<Container> {
    return this.freezerStep(ref, 'unpause', (c) => thaw(this.runtime, c));
  }

  private async freezerStep(
    ref: string,
    action: 'pause' | 'unpause',
    step: (c: Container) => Promise<void>,
  ): Promise<Container> {
    const id = this.records.resolve(ref).id;
    const done = await this.lock(id, action, async () => {
      const c = await this.refresh(this.mustGet(id), { cleanup: false });
      await step(c);
      this.emitContainer(c, action);
      return c;
    });
    return done ?? this.gone(ref);
  }

  /**
   * `docker container prune`: removes every container that is not running (nor restarting) and
   * matches the filters; returns the removed ids and the bytes of their writable layers.
   */
  async prune(
    match: (c: Container) => boolean,
    sizeOf: (c: Container) => Promise<number>,
  ): Promise<{ deleted: string[]; reclaimed: number }> {
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const c of await this.list()) {
      if (c.state === 'running' || c.state === 'removing' || isRestarting(c) || !match(c)) continue;
      const size = await sizeOf(c).catch(() => 0);
      try {
        await this.remove(c.id, { volumes: false });
      } catch (err) {
        // Started or removed by someone else meanwhile: not ours to prune any more.
        if (err instanceof SkiffError && (err.kind === 'FailedPrecondition' || err.kind === 'NotFound'))
          continue;
        throw err;
      }
      deleted.push(c.id);
      reclaimed += size;
    }
    this.events.emit('container', 'prune', '', { reclaimed: String(reclaimed) });
    return { deleted, reclaimed };
  }

  /**
   * `skiff system boot`, run once by the host's init system after a reboot: records what the reboot
   * ended (records that say running while no monitor is alive), then starts, as dockerd does when it
   * starts, the containers with `always` and those with `unless-stopped` the user did not stop.
   * Returns the containers started and those that failed to start.
   */
  async boot(): Promise<{ started: Container[]; failed: { container: Container; error: unknown }[] }> {
    await this.recover();
    const started: Container[] = [];
    const failed: { container: Container; error: unknown }[] = [];
    for (const listed of this.records.list()) {
      const c = await this.refresh(listed);
      if (c.state !== 'exited' || isRestarting(c) || !restartAtBoot(c)) continue;
      try {
        const done = await this.lock(c.id, 'start', async () => {
          const now = this.mustGet(c.id);
          if (now.state !== 'exited' || isRestarting(now)) return undefined;
          return this.startLocked(c.id, {});
        });
        if (done) started.push(done);
      } catch (error) {
        failed.push({ container: c, error });
      }
    }
    return { started, failed };
  }

  /** Whether the container's processes are frozen (Docker's State.Paused), read from its freezer. */
  async isPaused(c: Container): Promise<boolean> {
    return isPaused(this.runtime, c);
  }

  /** `docker top`: ps(1) with the given options, limited to the container's processes. */
  async top(ref: string, psArgs: readonly string[]): Promise<TopResult> {
    return top(this.runtime, await this.refresh(this.records.resolve(ref)), psArgs);
  }

  /**
   * `docker update`: the new limits are recorded in HostConfig (the next start uses them) and, if
   * the container runs, written to its cgroup first (a refused value changes nothing).
   */
  async update(ref: string, update: ResourceUpdate): Promise<{ container: Container; warnings: string[] }> {
    const id = this.records.resolve(ref).id;
    const done = await this.lock(id, 'update', async () => {
      const c = await this.refresh(this.mustGet(id), { cleanup: false });
      const hostConfig = mergeResourceUpdate(c.hostConfig, update);
      let warnings: string[] = [];
      const resources = cgroupUpdate(hostConfig, update);
      if (c.state === 'running' && Object.keys(resources).length > 0)
        warnings = await updateContainer(this.runtime.store, c.id, resources);
      this.records.updateHostConfig(c.id, hostConfig);
      this.emitContainer(c, 'update');
      return { container: { ...c, hostConfig }, warnings };
    });
    return done ?? this.gone(ref);
  }

  // ---- cp (../cp/) ----------------------------------------------------------------------------

  /** `docker cp CONTAINER:SRC DEST|-`: to a host path, or a tar stream. */
  async copyFromContainer(
    ref: string,
    srcPath: string,
    dest: { stream: Writable } | { path: string },
    options: CopyOptions = {},
  ): Promise<number> {
    return this.withContainerTree(ref, (side) => copyOut(side, srcPath, dest, options));
  }

  /** `docker cp SRC|- CONTAINER:DEST`: from a host path, or a tar stream. */
  async copyToContainer(
    ref: string,
    src: { stream: Readable } | { path: string },
    dstPath: string,
    options: CopyOptions = {},
  ): Promise<number> {
    return this.withContainerTree(ref, (side) => copyIn(side, src, dstPath, options));
  }

  /**
   * The container's tree under its lease (no start or removal meanwhile): a running one's root, or a
   * stopped one's snapshot mounted for the copy and unmounted after.
   */
  private async withContainerTree(
    ref: string,
    fn: (side: ContainerSide) => Promise<number>,
  ): Promise<number> {
    const id = this.records.resolve(ref).id;
    const rootfs = containerRootfs(this.paths, id);
    const done = await this.lock(id, 'cp', async () => {
      const c = await this.refresh(this.mustGet(id), { cleanup: false });
      const common = { ref, mounts: c.mounts, readonlyRootfs: c.hostConfig.ReadonlyRootfs === true };
      if (c.state === 'running')
        return withContainerSide({ ...common, pid: c.pid, pidStartTime: c.pidStartTime }, fn);
      const mountedHere = mountCount(rootfs) === 0;
      if (mountedHere) await mountRootfs(await this.snapshotter().mounts(id), rootfs);
      try {
        return await withContainerSide({ ...common, rootfs }, fn);
      } finally {
        if (mountedHere) await unmountRootfs(rootfs);
      }
    });
    return done ?? this.gone(ref);
  }
}

/** A RestartPolicy name that asks for restarts. */
function hasPolicy(name: string | undefined): boolean {
  return name !== undefined && name !== '' && name !== 'no';
}

/** A signal's number (Docker's kill event carries it as a decimal string). */
function signalNumber(signal: NodeJS.Signals | number): number {
  return typeof signal === 'number' ? signal : (osConstants.signals[signal] ?? 0);
}

/** SIGKILL or the container's stop signal: what dockerd resumes a paused container for. */
function isStopSignal(c: Container, signal: NodeJS.Signals | number): boolean {
  const n = (s: NodeJS.Signals | number) => (typeof s === 'number' ? s : osConstants.signals[s]);
  let stop: NodeJS.Signals | number = 'SIGTERM';
  try {
    stop = parseSignal(c.config.StopSignal ?? 'SIGTERM');
  } catch {
    // An unknown StopSignal was refused at create; SIGTERM is what stop sends then.
  }
  return n(signal) === 9 || n(signal) === n(stop);
}

function applyExit(c: Container, exit: ExitRecord | undefined): void {
  c.state = 'exited';
  c.exitCode = exit?.exitCode ?? 255;
  c.oomKilled = exit?.oomKilled ?? false;
  c.finishedAt = exit?.finishedAt ?? new Date().toISOString();
  c.pid = undefined;
  c.pidStartTime = undefined;
}

/** Docker's codes for a start that failed: 127 command not found, 126 not executable, else 125. */
function startFailureCode(err: unknown): number {
  const errno = (err as { cause?: { errno?: string; step?: string } })?.cause;
  if (errno?.step === 'exec' && errno.errno === 'ENOENT') return 127;
  if (errno?.step === 'exec' && (errno.errno === 'EACCES' || errno.errno === 'ENOEXEC')) return 126;
  return 125;
}

async function isMonitorAlive(dir: string): Promise<boolean> {
  let pid: number;
  try {
    pid = Number(readFileSync(path.join(dir, 'monitor.pid'), 'utf8').trim());
  } catch {
    return false;
  }
  return Number.isInteger(pid) && pid > 0 && (await processLiveness(pid)) === 'alive';
}

/** Unmounts the rootfs if it is mounted (every layer of it). */
export async function unmountRootfs(rootfs: string): Promise<void> {
  let count = mountCount(rootfs);
  while (count-- > 0) {
    try {
      await unmountSnapshot(rootfs);
    } catch (err) {
      // The monitor unmounts it too once the container exited (--unmount): gone is what was wanted.
      if (mountCount(rootfs) === 0) return;
      throw err;
    }
  }
}

/** How many mounts have `target` as their mount point (in this process's mount namespace). */
export function mountCount(target: string): number {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return 0;
  }
  const escaped = target.replace(/[ \t\n\\]/g, (ch) => `\\${ch.charCodeAt(0).toString(8).padStart(3, '0')}`);
  let n = 0;
  for (const line of text.split('\n')) if (line.split(' ')[4] === escaped) n++;
  return n;
}

export async function mountRootfs(specs: Parameters<typeof mountSnapshot>[0], rootfs: string): Promise<void> {
  if (mountCount(rootfs) > 0) return;
  await fs.mkdir(rootfs, { recursive: true });
  await mountSnapshot(specs, rootfs);
}

/** bin/skiff of the checkout (or $SKIFF_CLI), which the monitor runs as `container cleanup`. */
function defaultCli(): string[] {
  if (process.env.SKIFF_CLI) return [process.env.SKIFF_CLI];
  let dir = path.dirname(new URL(import.meta.url).pathname);
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'bin', 'skiff');
    if (existsSync(candidate)) return [candidate];
    dir = path.dirname(dir);
  }
  return ['skiff'];
}
