/**
 * State.Health as dockerd keeps it (daemon/health.go handleProbeResult): the status, the failing
 * streak and the last results, and how one probe result moves them. Pure, so the rules are unit-tested.
 */
import { MAX_LOG_ENTRIES, MAX_OUTPUT_LEN, type Probe } from './probe.ts';

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

/** One probe run (Docker's HealthcheckResult). Times are RFC 3339. */
export interface HealthResult {
  readonly Start: string;
  readonly End: string;
  /** 0 healthy, anything else a failure; -1 when the probe could not run or timed out. */
  readonly ExitCode: number;
  readonly Output: string;
}

/** Docker's State.Health. */
export interface HealthState {
  readonly Status: HealthStatus;
  readonly FailingStreak: number;
  /** The last results, oldest first. */
  readonly Log: readonly HealthResult[];
}

/** The health of a run that has had no result yet (dockerd's initHealthMonitor): the log is kept. */
export function startingState(log: readonly HealthResult[] = []): HealthState {
  return { Status: 'starting', FailingStreak: 0, Log: log };
}

/**
 * dockerd's handleProbeResult: a success makes the container healthy and resets the streak; a failure
 * adds to the streak (unless it came within the start period before any success) and makes the
 * container unhealthy once the streak reaches the retries.
 */
export function applyResult(
  state: HealthState,
  result: HealthResult,
  probe: Pick<Probe, 'retries' | 'startPeriodNs'>,
  containerStartedAt: string,
): HealthState {
  const log = [...state.Log, result].slice(-MAX_LOG_ENTRIES);
  if (result.ExitCode === 0) return { Status: 'healthy', FailingStreak: 0, Log: log };
  const sinceStartNs = (Date.parse(result.Start) - Date.parse(containerStartedAt)) * 1e6;
  if (state.Status === 'starting' && sinceStartNs < probe.startPeriodNs)
    return { Status: state.Status, FailingStreak: state.FailingStreak, Log: log };
  const streak = state.FailingStreak + 1;
  return { Status: streak >= probe.retries ? 'unhealthy' : state.Status, FailingStreak: streak, Log: log };
}

/** dockerd's limitedBuffer: the first 4096 bytes of the output, `...` appended when there was more. */
export function probeOutput(bytes: Buffer, total: number): string {
  const kept = bytes.subarray(0, MAX_OUTPUT_LEN).toString('utf8');
  return total > MAX_OUTPUT_LEN ? `${kept}...` : kept;
}

/** Docker's Health.String() inside the STATUS column: "Up 5 seconds (health: starting)". */
export function healthSuffix(status: HealthStatus | undefined): string {
  if (!status) return '';
  return status === 'starting' ? ' (health: starting)' : ` (${status})`;
}
