/**
 * The plan side of OCI hooks (runtime.md "Lifecycle", config.md "POSIX-platform Hooks"):
 * - prestart and createRuntime run in the runtime namespace, by the engine, while the init waits in
 *   the `sync createRuntime` step (after the mounts, before the pivot);
 * - createContainer runs in the init (the container's namespaces, before the pivot), so its path
 *   resolves in the runtime's mount view, as the spec requires;
 * - startContainer runs in the init after `start` and before the program, with the path resolved in
 *   the container.
 * The init learns the state JSON from the engine through the sync socket, right after the engine's
 * answer to the sync: two `hook-state` frames, `create` then `start` (hookStatePayload).
 */
import { invalidArgument } from '../../common/index.ts';
import type { Hook, Spec } from '../../oci/index.ts';
import type { PlanStep } from './types.ts';

/** The name of the sync step during which the engine runs prestart and createRuntime hooks. */
export const HOOKS_SYNC = 'createRuntime';

/** Whether the spec has hooks that need the init to stop at the sync step. */
export function needsHookSync(spec: Spec): boolean {
  const h = spec.hooks ?? {};
  return Boolean(
    h.prestart?.length || h.createRuntime?.length || h.createContainer?.length || h.startContainer?.length,
  );
}

function hookStep(hook: Hook, when: 'now' | 'start', field: string): PlanStep {
  if (!hook.path.startsWith('/'))
    throw invalidArgument(`config.json: ${field}.path "${hook.path}" must be absolute`);
  if (hook.timeout !== undefined && (!Number.isInteger(hook.timeout) || hook.timeout < 1)) {
    throw invalidArgument(`config.json: ${field}.timeout must be a positive number of seconds`);
  }
  return {
    op: 'hook',
    when,
    path: hook.path,
    timeout: hook.timeout ?? 0,
    args: hook.args ?? [],
    env: hook.env ?? [],
  };
}

/**
 * The steps that go right before the pivot: the sync, the two state frames (always both, in this
 * order, so that the engine's answer does not depend on the plan), the init's hooks.
 */
export function hookSteps(spec: Spec): PlanStep[] {
  if (!needsHookSync(spec)) return [];
  const hooks = spec.hooks ?? {};
  const steps: PlanStep[] = [
    { op: 'sync', name: HOOKS_SYNC },
    { op: 'hook-state', when: 'create' },
    { op: 'hook-state', when: 'start' },
  ];
  hooks.createContainer?.forEach((hook, i) => {
    steps.push(hookStep(hook, 'now', `hooks.createContainer[${i}]`));
  });
  hooks.startContainer?.forEach((hook, i) => {
    steps.push(hookStep(hook, 'start', `hooks.startContainer[${i}]`));
  });
  return steps;
}

/** The bytes the engine sends after answering `sync createRuntime`: the `create` then the `start` state. */
export function hookStatePayload(create: unknown, start: unknown): string {
  const frame = (value: unknown) => {
    const json = JSON.stringify(value);
    return `${Buffer.byteLength(json)}\n${json}`;
  };
  return frame(create) + frame(start);
}
