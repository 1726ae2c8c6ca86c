/**
 * One health check (`skiff container healthcheck ID`, which the container's monitor runs on its timer):
 * the probe exec'd in the container as dockerd's cmdProbe does it (the container's user, working dir
 * and environment, no terminal, stdout and stderr together, at most 4 KiB kept), killed when it
 * outlives the timeout, its result recorded and a `health_status: …` event emitted when the status
 * changed. A container that is not running (or paused, or ended during the check) records nothing,
 * as dockerd ignores the result of a probe it cancelled.
 */
import { closeSync, openSync, readSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { formatGoDuration, processLiveness } from '../../common/index.ts';
import type { Engine } from '../containers/engine.ts';
import type { Container } from '../containers/records.ts';
import { shimDir } from '../paths.ts';
import { MAX_OUTPUT_LEN, type Probe, probeOf } from './probe.ts';
import { type HealthResult, type HealthState, probeOutput } from './state.ts';

export interface HealthCheckOutcome {
  readonly result: HealthResult;
  readonly state: HealthState;
  /** The status changed with this result (an event was emitted). */
  readonly changed: boolean;
}

/** Runs the container's probe once; undefined when there was nothing to check (see above). */
export async function runHealthCheck(engine: Engine, ref: string): Promise<HealthCheckOutcome | undefined> {
  const c = await engine.inspect(ref);
  const probe = probeOf(c.config);
  if (!probe || c.state !== 'running') return undefined;
  if ((await engine.runtime.status(c.id).catch(() => 'stopped')) !== 'running') return undefined;
  const start = new Date().toISOString();
  let exit: { code: number; output: string };
  try {
    exit = await execProbe(engine, c, probe);
  } catch (err) {
    exit = { code: -1, output: err instanceof Error ? err.message : String(err) };
  }
  const result: HealthResult = {
    Start: start,
    End: new Date().toISOString(),
    ExitCode: exit.code,
    Output: exit.output,
  };
  if (!(await stillTheSameRun(engine, c))) return undefined;
  let recorded: ReturnType<typeof engine.healthRecords.record>;
  try {
    recorded = engine.healthRecords.record(c, probe, result);
  } catch (err) {
    // Removed meanwhile (the row's foreign key): nothing to record on.
    if (!engine.records.get(c.id)) return undefined;
    throw err;
  }
  if (!recorded) return undefined;
  const changed = recorded.before.Status !== recorded.after.Status;
  // dockerd logs health_status on every change of status (never for `starting`, which is only set).
  if (changed) engine.emitContainer(c, `health_status: ${recorded.after.Status}`);
  return { result, state: recorded.after, changed };
}

/** The container still runs the same run as when the probe started (no stop, no restart meanwhile). */
async function stillTheSameRun(engine: Engine, before: Container): Promise<boolean> {
  const now = engine.records.get(before.id);
  if (now?.state !== 'running' || now.startedAt !== before.startedAt || now.pid === undefined) return false;
  return (await processLiveness(now.pid, now.pidStartTime)) === 'alive';
}

/** The probe's exit code and output (stdout and stderr in one file, as dockerd's one buffer). */
async function execProbe(
  engine: Engine,
  c: Container,
  probe: Probe,
): Promise<{ code: number; output: string }> {
  // An unlinked file of the run's own directory: no pipe to drain, gone with the last fd.
  const file = path.join(shimDir(engine.paths, c.id), `health-${process.pid}-${Date.now()}.out`);
  const fd = openSync(file, 'w+', 0o600);
  try {
    unlinkSync(file);
    const proc = await engine.runtime.exec(
      c.id,
      await engine.runtime.execProcessFor(c.id, { args: [...probe.argv], terminal: false }),
      { stdio: ['ignore', fd, fd] },
    );
    const timeoutMs = Math.max(1, Math.ceil(probe.timeoutNs / 1e6));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const code = await Promise.race([proc.exit!, timedOut]);
    clearTimeout(timer);
    if (code === 'timeout') {
      // The foreground shim then exits with the process's status.
      killProbe(proc.pid);
      await proc.exit;
      const out = readOutput(fd);
      const limit = formatGoDuration(probe.timeoutNs);
      return {
        code: -1,
        output: out
          ? `Health check exceeded timeout (${limit}): ${out}`
          : `Health check exceeded timeout (${limit})`,
      };
    }
    return { code, output: readOutput(fd) };
  } finally {
    closeSync(fd);
  }
}

function readOutput(fd: number): string {
  const buf = Buffer.alloc(MAX_OUTPUT_LEN + 1);
  const n = readSync(fd, buf, 0, buf.length, 0);
  return probeOutput(buf.subarray(0, n), n);
}

/** SIGKILL to the probe (its host pid), as dockerd has containerd kill the exec'd process. */
function killProbe(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // ended meanwhile
  }
}
