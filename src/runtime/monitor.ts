/**
 * The shim's monitor role (native/shim/monitor.c; /work/engine-contract.md "The monitor"): the shim
 * stays with the container after `create` returns, holds its stdio, writes the log, serves the attach
 * socket and records the exit. The runtime only launches it; the engine talks to it (src/engine/monitor).
 */
import { invalidArgument } from '../common/index.ts';

export interface MonitorOptions {
  /** Directory of the attach socket (`attach`), the exit record (`exit`) and `monitor.pid`. */
  dir: string;
  /** Docker json-file log; absent: no log. */
  logFile?: string;
  /** Rotate when the next line would make the log bigger than this (bytes); absent: never. */
  logMaxSize?: number;
  /** Files kept with rotation: logFile, logFile.1 … logFile.(n-1); 1 (default) truncates in place. */
  logMaxFiles?: number;
  /** Give the container a stdin pipe fed by attach clients (else /dev/null). */
  stdin?: boolean;
  /**
   * The file whose `oom_kill N` line tells an OOM kill (cgroup v1 memory.oom_control, v2
   * memory.events); 'auto': the one of the cgroup the runtime creates for the container.
   */
  oomFile?: string | 'auto';
  /** Run (own session, stdio /dev/null) after the exit is recorded, unless a client claimed cleanup. */
  exitCommand?: string[];
  /**
   * Unmounted (detached) by the monitor once the container exited and its output is drained, before
   * the exit is recorded: the rootfs that `CreateOptions.rootfsMounts` mounted. Failures are not fatal.
   */
  unmount?: string;
  /**
   * A command the monitor runs periodically while the container runs (the engine's health check):
   * `intervalMs` after the end of the previous run (never two at once), `startIntervalMs` instead
   * during the first `startPeriodMs`; own session, stdio /dev/null; no new run once the container exited.
   */
  timer?: MonitorTimer;
}

export interface MonitorTimer {
  intervalMs: number;
  startIntervalMs?: number;
  startPeriodMs?: number;
  command: string[];
}

/** The shim's `--timer …` options (native/PLAN.md, "The monitor"). */
function timerArgs(timer: MonitorTimer): string[] {
  const [command, ...rest] = timer.command;
  if (!command) throw invalidArgument('monitor.timer.command: needs at least the program');
  const args = ['--timer', String(count(timer.intervalMs, 'timer.intervalMs', 1))];
  if (timer.startIntervalMs !== undefined)
    args.push('--timer-start-interval', String(count(timer.startIntervalMs, 'timer.startIntervalMs', 0)));
  if (timer.startPeriodMs !== undefined)
    args.push('--timer-start-period', String(count(timer.startPeriodMs, 'timer.startPeriodMs', 0)));
  args.push('--timer-command', command);
  for (const arg of rest) args.push('--timer-command-arg', arg);
  return args;
}

/** The shim's command-line options for `monitor` (with oomFile already resolved to a path). */
export function monitorArgs(monitor: MonitorOptions, oomFile: string | undefined): string[] {
  const args = ['--monitor', monitor.dir];
  if (monitor.logFile !== undefined) args.push('--log', monitor.logFile);
  if (monitor.logMaxSize !== undefined)
    args.push('--log-max-size', String(count(monitor.logMaxSize, 'logMaxSize', 0)));
  if (monitor.logMaxFiles !== undefined)
    args.push('--log-max-files', String(count(monitor.logMaxFiles, 'logMaxFiles', 1)));
  if (monitor.stdin) args.push('--stdin');
  if (oomFile !== undefined) args.push('--oom-file', oomFile);
  if (monitor.unmount !== undefined) {
    if (!monitor.unmount.startsWith('/'))
      throw invalidArgument(`monitor.unmount: \`${monitor.unmount}\` must be an absolute path`);
    args.push('--unmount', monitor.unmount);
  }
  const [command, ...rest] = monitor.exitCommand ?? [];
  if (monitor.exitCommand && !command)
    throw invalidArgument('monitor.exitCommand: needs at least the program');
  if (command) {
    args.push('--exit-command', command);
    for (const arg of rest) args.push('--exit-command-arg', arg);
  }
  if (monitor.timer) args.push(...timerArgs(monitor.timer));
  return args;
}

function count(value: number, field: string, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw invalidArgument(`monitor.${field}: must be an integer >= ${min}, not ${value}`);
  }
  return value;
}

/** The OOM counter of the cgroup directory that has the memory controller, if any. */
export function oomFileOf(
  dirs: readonly { hierarchy: { version: 1 | 2; controllers: string[] }; dir: string }[],
): string | undefined {
  const memory = dirs.find((d) => d.hierarchy.controllers.includes('memory'));
  if (!memory) return undefined;
  return `${memory.dir}/${memory.hierarchy.version === 1 ? 'memory.oom_control' : 'memory.events'}`;
}
