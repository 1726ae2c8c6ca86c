import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { nativeTool, runtimeFailure, SkiffError } from '../common/index.ts';

/** A message of the shim's sync protocol (native/PLAN.md, "Messages"). */
export type ShimMessage =
  | { type: 'pid'; pid: number }
  | { type: 'created' }
  | { type: 'sync'; name: string }
  | {
      type: 'error';
      step: string;
      index?: number;
      path?: string;
      errno?: string;
      code?: number;
      message: string;
    };

/** Each of the container's standard streams: an fd of this process, or inherited / discarded. */
export type ContainerStdio = readonly [
  number | 'inherit' | 'ignore',
  number | 'inherit' | 'ignore',
  number | 'inherit' | 'ignore',
];

export interface ShimOptions {
  planFile: string;
  /** `create` a container's init (default), or `exec` a process into a running container. */
  mode?: 'create' | 'exec';
  foreground: boolean;
  /** fds of this process passed to the container as 3, 4, … (runc's --preserve-fds). */
  preserveFds: number;
  /** The container's stdin, stdout and stderr (default: this process's). */
  stdio?: ContainerStdio;
  /**
   * Answers `sync` steps (hooks); resolve to continue, reject to abort the create. A resolved string
   * is sent right after the answer (the `hook-state` frames the init reads next).
   */
  onSync?: (name: string, pid: number | undefined) => Promise<string | undefined>;
  /**
   * The monitor role (`--monitor DIR …`, src/runtime/monitor.ts): the shim is started in its own
   * session with stdio ignored and outlives this process; `stdio` and `foreground` do not apply.
   */
  monitorArgs?: string[];
}

export interface LaunchedShim {
  pid: number;
  /** The shim process; in foreground mode it exits with the container's status. */
  child: ChildProcess;
}

/** The shim binary: $SKIFF_SHIM, or native/build/skiff-shim of this checkout. */
export function shimPath(): string {
  return nativeTool('skiff-shim', 'SKIFF_SHIM');
}

/**
 * Starts `skiff-shim create` and follows its reports until the init is created (and has closed its
 * end of the sync socket). Rejects with the shim's own error, which names the step, path and errno.
 */
export async function launchShim(options: ShimOptions): Promise<LaunchedShim> {
  const syncFd = 3 + options.preserveFds;
  const monitor = options.monitorArgs !== undefined;
  const stdio: StdioOptions = monitor
    ? ['ignore', 'ignore', 'ignore']
    : [...(options.stdio ?? ['inherit', 'inherit', 'inherit'])];
  for (let fd = 3; fd < syncFd; fd++) stdio.push(fd);
  stdio.push('pipe');
  const args = [options.mode ?? 'create', '--plan', options.planFile, '--sync-fd', String(syncFd)];
  if (options.foreground && !monitor) args.push('--foreground');
  if (monitor) args.push(...(options.monitorArgs ?? []));
  // A monitor lives on in a session of its own: this process may exit at any moment after create.
  const child = spawn(shimPath(), args, { stdio, detached: monitor });
  const socket = child.stdio[syncFd] as Readable & { write(data: string): boolean };

  let pid: number | undefined;
  let failure: SkiffError | undefined;
  let created = false;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const spawnFailed = new Promise<never>((_, reject) =>
    child.once('error', (err) => reject(runtimeFailure(`start skiff-shim: ${err.message}`, err))),
  );

  const follow = async () => {
    for await (const message of readMessages(socket)) {
      if (message.type === 'pid') pid = message.pid;
      else if (message.type === 'created') created = true;
      else if (message.type === 'error') failure ??= shimError(message);
      else if (message.type === 'sync') {
        try {
          const payload = await options.onSync?.(message.name, pid);
          socket.write(`1${payload ?? ''}`);
        } catch (err) {
          failure ??= err instanceof SkiffError ? err : runtimeFailure(String(err), err);
          socket.write('0');
        }
      }
    }
  };
  await Promise.race([follow(), spawnFailed]);

  // Without --foreground the shim exits once the init runs on its own; its status tells of failures
  // that happened before the init could report anything.
  if (!options.foreground && !monitor) {
    const code = await exited;
    if (!failure && code !== 0) failure = runtimeFailure(`skiff-shim exited with status ${code}`);
  }
  if (!failure && (!created || pid === undefined)) {
    failure = runtimeFailure('container init exited before it was created (no report from skiff-shim)');
  }
  if (failure) {
    if (pid !== undefined) killQuietly(pid);
    // A monitor ends on its own once the init is gone, undoing its `host-mount`s; it is given time.
    if (monitor) await exitedWithin(exited, MONITOR_FAILURE_EXIT_MS);
    if (options.foreground || monitor) child.kill('SIGKILL');
    throw failure;
  }
  if (monitor) {
    socket.destroy();
    child.unref();
  }
  return { pid: pid!, child };
}

async function* readMessages(socket: Readable): AsyncGenerator<ShimMessage> {
  let buffered = '';
  for await (const chunk of socket) {
    buffered += chunk.toString();
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line.trim()) yield parseMessage(line);
      newline = buffered.indexOf('\n');
    }
  }
  if (buffered.trim()) yield parseMessage(buffered);
}

function parseMessage(line: string): ShimMessage {
  try {
    return JSON.parse(line) as ShimMessage;
  } catch (err) {
    throw runtimeFailure(`skiff-shim sent a malformed report: ${JSON.stringify(line)}`, err);
  }
}

function shimError(message: Extract<ShimMessage, { type: 'error' }>): SkiffError {
  const kind = message.errno === 'ENOENT' ? 'NotFound' : 'RuntimeFailure';
  return new SkiffError(kind, withErrnoName(message.message, message.errno), { cause: message });
}

/**
 * `mount \`/proc\`: Operation not permitted` → `mount \`/proc\`: EPERM (Operation not permitted)`: the
 * errno's name is what people search for, first, as crun and the rest of skiff print it.
 */
export function withErrnoName(text: string, errno: string | undefined): string {
  if (!errno) return text;
  const colon = text.lastIndexOf(': ');
  if (colon < 0) return `${text} (${errno})`;
  return `${text.slice(0, colon)}: ${errno} (${text.slice(colon + 2)})`;
}

/** How long a monitor whose create failed may take to undo its mounts and exit before it is killed. */
const MONITOR_FAILURE_EXIT_MS = 3000;

async function exitedWithin(exited: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  await Promise.race([exited, timeout]);
  clearTimeout(timer);
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone: nothing to kill.
  }
}
