/**
 * Docker's restart manager (moby restartmanager + daemon/monitor.go), as pure decisions over the
 * container record. The cleanup the monitor runs after an exit asks `restartAfterExit` whether to
 * start the container again and after which back-off; `system boot` asks `restartAtBoot`.
 *
 * manualStop (Docker's HasBeenManuallyStopped and ExitOnNext):
 *   0  not stopped by the user;
 *   1  killed with a signal other than its stop signal: unless-stopped no longer restarts;
 *   2  stopped (`stop`, `restart`, `rm -f`) or killed with SIGKILL or its stop signal: the pending
 *      restart is cancelled, whatever the policy (moby's killWithSignal calls ExitOnNext).
 * A start by the user (or at boot) clears it, and RestartCount with it (moby's ResetRestartManager).
 */
import { invalidArgument } from '../../common/index.ts';
import type { RestartPolicy } from '../docker-types.ts';
import { isStaleOwner } from './lock.ts';
import type { Container } from './records.ts';

export const MANUAL_NONE = 0;
export const MANUAL_SIGNAL = 1;
export const MANUAL_STOP = 2;

/** Docker's restart manager: first back-off, the cap, and the run time that resets the back-off. */
const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 60_000;
const RESET_AFTER_MS = 10_000;

/** The daemon's ValidateRestartPolicy, with its words. */
export function validateRestartPolicy(policy: RestartPolicy | undefined): void {
  const name = policy?.Name ?? '';
  const max = policy?.MaximumRetryCount ?? 0;
  switch (name) {
    case '':
    case 'no':
    case 'always':
    case 'unless-stopped':
      if (max !== 0 && name !== '')
        throw invalidArgument(
          `invalid restart policy: maximum retry count can only be used with 'on-failure'${max < 0 ? ' and cannot be negative' : ''}`,
        );
      return;
    case 'on-failure':
      if (max < 0) throw invalidArgument('invalid restart policy: maximum retry count cannot be negative');
      return;
    default:
      throw invalidArgument(
        `invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`,
      );
  }
}

/** The CLI's opts.ParseRestartPolicy: `no`, `always`, `unless-stopped`, `on-failure[:N]`. */
export function parseRestartPolicy(text: string): RestartPolicy {
  const colon = text.indexOf(':');
  const name = colon < 0 ? text : text.slice(0, colon);
  const count = colon < 0 ? '' : text.slice(colon + 1);
  if (colon >= 0 && name === '')
    throw new Error('invalid restart policy format: no policy provided before colon');
  if (count !== '' && !/^[+-]?\d+$/.test(count))
    throw new Error('invalid restart policy format: maximum retry count must be an integer');
  return { Name: name as RestartPolicy['Name'], MaximumRetryCount: count === '' ? 0 : Number(count) };
}

export function hasRestartPolicy(c: Pick<Container, 'hostConfig'>): boolean {
  const name = c.hostConfig.RestartPolicy?.Name ?? '';
  return name !== '' && name !== 'no';
}

/** The restart manager's next back-off: 100 ms, doubled each time up to 1 min, reset by a 10 s run. */
export function nextBackoffMs(previousMs: number, ranMs: number): number {
  let delay = ranMs >= RESET_AFTER_MS ? 0 : previousMs;
  if (delay <= 0) delay = FIRST_DELAY_MS;
  else if (delay < MAX_DELAY_MS) delay *= 2;
  return Math.min(delay, MAX_DELAY_MS);
}

/**
 * moby's ShouldRestart for an exit just recorded: the back-off to wait before starting again, or
 * undefined when the policy says no.
 */
export function restartAfterExit(c: Container): number | undefined {
  const policy = c.hostConfig.RestartPolicy;
  const manual = c.manualStop ?? MANUAL_NONE;
  if (manual >= MANUAL_STOP) return undefined;
  const ran = Date.parse(c.finishedAt ?? '') - Date.parse(c.startedAt ?? '');
  const delay = nextBackoffMs(c.restartDelayMs ?? 0, Number.isFinite(ran) ? ran : 0);
  switch (policy?.Name) {
    case 'always':
      return delay;
    case 'unless-stopped':
      return manual === MANUAL_NONE ? delay : undefined;
    case 'on-failure': {
      const max = policy.MaximumRetryCount ?? 0;
      if (max > 0 && c.restartCount >= max) return undefined;
      return (c.exitCode ?? 0) !== 0 ? delay : undefined;
    }
    default:
      return undefined;
  }
}

/** Docker at daemon start: always containers, and unless-stopped ones the user did not stop. */
export function restartAtBoot(c: Container): boolean {
  if (c.startedAt === undefined) return false; // never started: docker leaves created ones alone
  const name = c.hostConfig.RestartPolicy?.Name;
  return name === 'always' || (name === 'unless-stopped' && (c.manualStop ?? MANUAL_NONE) === MANUAL_NONE);
}

/** Docker's State.Restarting: an exit recorded and a live cleanup process waiting out the back-off. */
export function isRestarting(c: Container): boolean {
  return (
    c.state === 'exited' &&
    c.restartWaiter !== undefined &&
    c.restartWaiter !== 'due' &&
    !isStaleOwner(c.restartWaiter)
  );
}
