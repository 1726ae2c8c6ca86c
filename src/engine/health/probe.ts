/**
 * A container's health check as dockerd runs it (daemon/health.go): the probe's command line from
 * Config.Healthcheck (`CMD`, `CMD-SHELL`, `NONE`), dockerd's defaults for what is 0, and the
 * daemon's validation of the values (create refuses what dockerd refuses, in its words).
 */
import { invalidArgument } from '../../common/index.ts';
import type { ContainerConfig, HealthConfig } from '../docker-types.ts';

/** dockerd's defaults (daemon/health.go). */
export const DEFAULT_INTERVAL_NS = 30e9;
export const DEFAULT_TIMEOUT_NS = 30e9;
export const DEFAULT_START_PERIOD_NS = 0;
export const DEFAULT_START_INTERVAL_NS = 5e9;
export const DEFAULT_RETRIES = 3;
/** The longest probe output kept (longer output is cut and `...` appended). */
export const MAX_OUTPUT_LEN = 4096;
/** Results kept in State.Health.Log. */
export const MAX_LOG_ENTRIES = 5;
/** containertypes.MinimumDuration: the shortest non-zero interval, timeout and period. */
const MINIMUM_DURATION_NS = 1e6;

/** A health check ready to run: the argv exec'd in the container and the effective durations. */
export interface Probe {
  readonly argv: readonly string[];
  readonly intervalNs: number;
  readonly timeoutNs: number;
  readonly startPeriodNs: number;
  readonly startIntervalNs: number;
  readonly retries: number;
}

const orDefault = (value: number | undefined, fallback: number) => (value ? value : fallback);

/**
 * The probe of a container, or undefined when it has none (no Healthcheck, an empty Test, `NONE`, or
 * a test type dockerd does not know, which it only warns about).
 */
export function probeOf(config: ContainerConfig): Probe | undefined {
  const h = config.Healthcheck;
  const test = h?.Test ?? [];
  if (!h || test.length === 0) return undefined;
  let argv: string[];
  if (test[0] === 'CMD') argv = test.slice(1);
  else if (test[0] === 'CMD-SHELL')
    argv = [...(config.Shell?.length ? config.Shell : ['/bin/sh', '-c']), ...test.slice(1)];
  else return undefined;
  if (argv.length === 0) return undefined;
  return {
    argv,
    intervalNs: orDefault(h.Interval, DEFAULT_INTERVAL_NS),
    timeoutNs: orDefault(h.Timeout, DEFAULT_TIMEOUT_NS),
    startPeriodNs: orDefault(h.StartPeriod, DEFAULT_START_PERIOD_NS),
    startIntervalNs: orDefault(h.StartInterval, DEFAULT_START_INTERVAL_NS),
    retries: h.Retries && h.Retries > 0 ? h.Retries : DEFAULT_RETRIES,
  };
}

/** dockerd's verifyContainerSettings for Healthcheck, with its messages. */
export function validateHealthcheck(h: HealthConfig | undefined): void {
  if (!h) return;
  const tooShort = (value: number | undefined) =>
    value !== undefined && value !== 0 && value < MINIMUM_DURATION_NS;
  for (const key of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval'] as const) {
    if (tooShort(h[key])) throw invalidArgument(`${key} in Healthcheck cannot be less than 1ms`);
  }
  if ((h.Retries ?? 0) < 0) throw invalidArgument('Retries in Healthcheck cannot be negative');
}

/** What the monitor's timer needs (native/PLAN.md, "The monitor"): dockerd's scheduling in ms. */
export function probeSchedule(probe: Probe): {
  intervalMs: number;
  startIntervalMs: number;
  startPeriodMs: number;
} {
  const ms = (ns: number) => Math.max(1, Math.ceil(ns / 1e6));
  return {
    intervalMs: ms(probe.intervalNs),
    startIntervalMs: ms(probe.startIntervalNs),
    startPeriodMs: probe.startPeriodNs > 0 ? ms(probe.startPeriodNs) : 0,
  };
}
