import type { ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import { failedPrecondition, hasErrno, syscallError, writeFileAtomic } from '../common/index.ts';
import type { Process, Spec } from '../oci/index.ts';
import { parseSpec } from '../oci/index.ts';
import { detectLayout, loadCgroup } from './cgroups/index.ts';
import { compileExecPlan, encodePlan } from './plan/index.ts';
import { seccompCacheDir } from './seccomp-cache.ts';
import { type ContainerStdio, launchShim } from './shim.ts';
import type { StateStore } from './state.ts';

export interface ExecOptions {
  /** Return once the process runs (runc exec -d); otherwise `exit` resolves to its status. */
  detach?: boolean;
  pidFile?: string;
  /** Unix socket that receives the pty master when process.terminal is true. */
  consoleSocket?: string;
  /** fds 3 … 3+n-1 of this process are passed to the process. */
  preserveFds?: number;
  /** The process's stdin, stdout, stderr (default: this process's). */
  stdio?: ContainerStdio;
}

export interface ExecedProcess {
  /** Host pid of the process. */
  pid: number;
  /** Without detach: its exit status (code, or 128 + signal). */
  exit?: Promise<number>;
}

/**
 * Runs a process in a container (runc exec): `skiff-shim exec` joins the init's namespaces and
 * cgroups, then performs the same process steps as the init of a create.
 */
export async function execProcess(
  store: StateStore,
  id: string,
  proc: Process,
  options: ExecOptions = {},
): Promise<ExecedProcess> {
  const record = await store.read(id);
  const status = await store.status(record);
  // As runc: a created container (init waiting on the fifo) takes exec'd processes; a stopped one not.
  if (status !== 'running' && status !== 'created') {
    throw failedPrecondition(`cannot exec in container "${id}": it is ${status}`);
  }
  const spec = loadBundleSpec(record.bundle);
  const cgroupProcs = record.cgroup ? loadCgroup(await detectLayout(), record.cgroup).procsFiles : [];
  const preserveFds = options.preserveFds ?? 0;
  const plan = compileExecPlan({
    spec,
    process: proc,
    initPid: record.pid!,
    cgroupProcs,
    preserveFds,
    consoleSocket: options.consoleSocket,
    relayTerminal: !options.detach,
    seccompCache: seccompCacheDir(store.root, spec),
  });
  // One plan file per exec: several may run at once in the same container.
  const planFile = path.join(
    store.dir(id),
    `exec-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.plan`,
  );
  await writeFileAtomic(planFile, encodePlan(plan));
  try {
    const shim = await launchShim({
      planFile,
      mode: 'exec',
      foreground: !options.detach,
      preserveFds,
      ...(options.stdio ? { stdio: options.stdio } : {}),
    });
    // The container may have died meanwhile: the pid is then of a process that no longer exists.
    if (options.pidFile) await writeFileAtomic(path.resolve(options.pidFile), `${shim.pid}`, 0o644);
    return { pid: shim.pid, ...(options.detach ? {} : { exit: exitStatus(shim.child) }) };
  } finally {
    rmSync(planFile, { force: true });
  }
}

function loadBundleSpec(bundle: string): Spec {
  const file = path.join(bundle, 'config.json');
  try {
    return parseSpec(readFileSync(file, 'utf8'), file);
  } catch (err) {
    if (hasErrno(err, 'ENOENT') || hasErrno(err, 'EACCES')) throw syscallError('read', file, err);
    throw err;
  }
}

function exitStatus(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    const done = (code: number | null, signal: NodeJS.Signals | null) =>
      resolve(code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0));
    if (child.exitCode !== null || child.signalCode !== null) done(child.exitCode, child.signalCode);
    else child.once('exit', done);
  });
}

/** What `runc exec` changes of the container's process (its flags), for `defaultExecProcess`. */
export interface ExecOverrides {
  args: string[];
  terminal?: boolean;
  /** Appended to the container's env (a later KEY= wins, as in execve's environment). */
  env?: string[];
  cwd?: string;
  /** runc's `-u uid[:gid]`: without a gid, config.json's stays. */
  user?: { uid: number; gid?: number | undefined };
  additionalGids?: number[];
  /** Added to the bounding, effective and permitted sets, and to ambient when inheritable exists (runc --cap). */
  capabilities?: string[];
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  selinuxLabel?: string;
  consoleSize?: { height: number; width: number };
}

/** runc's exec without --process: config.json's process with the command line's changes. */
export function applyExecOverrides(base: Process, o: ExecOverrides): Process {
  const proc: Process = structuredClone(base);
  proc.args = o.args;
  proc.terminal = o.terminal ?? false;
  if (o.consoleSize) proc.consoleSize = o.consoleSize;
  else delete proc.consoleSize;
  if (o.env?.length) proc.env = [...(proc.env ?? []), ...o.env];
  if (o.cwd !== undefined) proc.cwd = o.cwd;
  if (o.user) proc.user = { ...proc.user, uid: o.user.uid, gid: o.user.gid ?? proc.user.gid };
  if (o.additionalGids?.length) proc.user.additionalGids = o.additionalGids;
  if (o.capabilities?.length) {
    const caps = proc.capabilities ?? {};
    proc.capabilities = caps;
    // As runc: ambient capabilities need inheritable ones, which --cap does not add.
    const sets = [
      'bounding',
      'effective',
      'permitted',
      ...(caps.inheritable ? ['ambient' as const] : []),
    ] as const;
    for (const set of sets) caps[set] = [...new Set([...(caps[set] ?? []), ...o.capabilities])];
  }
  if (o.noNewPrivileges) proc.noNewPrivileges = true;
  if (o.apparmorProfile !== undefined) proc.apparmorProfile = o.apparmorProfile;
  if (o.selinuxLabel !== undefined) proc.selinuxLabel = o.selinuxLabel;
  return proc;
}

/** config.json's process of a container: the base of an exec without --process. */
export async function containerProcess(store: StateStore, id: string): Promise<Process> {
  const record = await store.read(id);
  const proc = loadBundleSpec(record.bundle).process;
  if (!proc) throw failedPrecondition(`container "${id}" has no process in its config.json`);
  return proc;
}
