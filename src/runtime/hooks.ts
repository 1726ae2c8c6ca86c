/**
 * OCI hooks the engine runs itself, in the runtime namespace: prestart and createRuntime (during the
 * init's `sync createRuntime` step), poststart (after `start`) and poststop (after `delete`). Each gets
 * the container's state JSON on stdin, its own args and env, and its timeout (SIGKILL when it runs
 * over). The hooks the init runs (createContainer, startContainer) are in native/shim/hooks.c.
 */
import { spawn } from 'node:child_process';
import { runtimeFailure } from '../common/index.ts';
import type { ContainerStatus, Hook, Hooks, State } from '../oci/index.ts';
import { OCI_RUNTIME_SPEC_VERSION } from '../oci/index.ts';
import { hookStatePayload } from './plan/index.ts';
import type { ContainerRecord } from './state.ts';

export type HookKind = keyof Hooks;

/** The state a hook is given: the OCI state with the status of that moment and the init's host pid. */
export function hookState(record: ContainerRecord, status: ContainerStatus, pid: number | undefined): State {
  return {
    ociVersion: OCI_RUNTIME_SPEC_VERSION,
    id: record.id,
    status,
    ...(pid !== undefined && status !== 'stopped' ? { pid } : {}),
    bundle: record.bundle,
    annotations: record.annotations,
  };
}

/** Runs one hook to completion; rejects naming the hook kind, its index, path and what went wrong. */
export function runHook(hook: Hook, state: State, label: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const [argv0, ...rest] = hook.args?.length ? hook.args : [hook.path];
    const child = spawn(hook.path, rest, {
      argv0,
      env: Object.fromEntries(
        (hook.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
      ),
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    let timedOut = false;
    const timer =
      hook.timeout !== undefined
        ? setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, hook.timeout * 1000)
        : undefined;
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 4096) stderr += chunk.toString();
    });
    // A hook that does not read its stdin closes the pipe: that is its business, not an error.
    child.stdin.on('error', () => undefined);
    child.stdin.end(JSON.stringify(state));
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(runtimeFailure(`${label} hook \`${hook.path}\`: ${err.message}`, err));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const tail = stderr.trim() ? `: ${stderr.trim()}` : '';
      if (timedOut)
        reject(runtimeFailure(`${label} hook \`${hook.path}\` timed out after ${hook.timeout} s`));
      else if (signal)
        reject(runtimeFailure(`${label} hook \`${hook.path}\` was killed by ${signal}${tail}`));
      else if (code !== 0)
        reject(runtimeFailure(`${label} hook \`${hook.path}\` exited with status ${code}${tail}`));
      else resolve();
    });
  });
}

/** Runs the hooks of one kind in order; the first failure stops the rest (runtime.md). */
export async function runHooks(kind: HookKind, hooks: Hooks | undefined, state: State): Promise<void> {
  const list = hooks?.[kind] ?? [];
  for (const [i, hook] of list.entries()) await runHook(hook, state, `${kind}[${i}]`);
}

/**
 * Runs every hook and reports each failure to `warn` instead of failing (poststart and poststop: the
 * spec says to log a warning and go on with the remaining hooks and the lifecycle).
 */
export async function runHooksWarning(
  kind: HookKind,
  hooks: Hooks | undefined,
  state: State,
  warn: (message: string) => void,
): Promise<void> {
  for (const [i, hook] of (hooks?.[kind] ?? []).entries()) {
    try {
      await runHook(hook, state, `${kind}[${i}]`);
    } catch (err) {
      warn(err instanceof Error ? err.message : String(err));
    }
  }
}

/**
 * The engine's answer to `sync createRuntime`: run prestart (deprecated, run with createRuntime as runc
 * does) and createRuntime in the runtime namespace, then hand the init the state its own hooks get
 * (createContainer: `creating`; startContainer: `created`, as runc).
 */
export async function createRuntimeHooks(
  record: ContainerRecord,
  hooks: Hooks | undefined,
  pid: number | undefined,
): Promise<string> {
  const state = hookState(record, 'creating', pid);
  await runHooks('prestart', hooks, state);
  await runHooks('createRuntime', hooks, state);
  return hookStatePayload(state, hookState(record, 'created', pid));
}
