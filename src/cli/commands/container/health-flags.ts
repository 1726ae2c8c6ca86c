/**
 * The health flags of `run` and `create` (docker CLI's opts.go: --health-*, --no-healthcheck) and
 * their translation into Config.Healthcheck, with the CLI's checks and wording.
 */
import { parseGoDuration } from '../../../common/index.ts';
import type { HealthConfig } from '../../../engine/index.ts';
import type { FlagSpec, FlagValues } from '../../flags.ts';

const duration = (name: string, description: string): FlagSpec => ({
  name,
  type: 'string',
  description: `${description} (ms|s|m|h)`,
  valueName: 'duration',
  defaultText: '0s',
});

/** In docker's help order (they sit between --env-file and --hostname; --no-healthcheck after --network). */
export const HEALTH_FLAGS: readonly FlagSpec[] = [
  { name: 'health-cmd', type: 'string', description: 'Command to run to check health' },
  duration('health-interval', 'Time between running the check'),
  {
    name: 'health-retries',
    type: 'string',
    valueName: 'int',
    description: 'Consecutive failures needed to report unhealthy',
  },
  duration('health-start-interval', 'Time between running the check during the start period'),
  duration(
    'health-start-period',
    'Start period for the container to initialize before starting health-retries countdown',
  ),
  duration('health-timeout', 'Maximum time to allow one check to run'),
];

export const NO_HEALTHCHECK_FLAG: FlagSpec = {
  name: 'no-healthcheck',
  type: 'bool',
  description: 'Disable any container-specified HEALTHCHECK',
};

/** Go's strconv.Atoi for --health-retries. */
function parseInt32(text: string): number {
  if (!/^[+-]?\d+$/.test(text)) throw new Error(`strconv.ParseInt: parsing "${text}": invalid syntax`);
  const n = Number(text);
  if (n > 2 ** 31 - 1 || n < -(2 ** 31))
    throw new Error(`strconv.ParseInt: parsing "${text}": value out of range`);
  return n;
}

/**
 * docker's Healthcheck from the flags: `{Test: ["NONE"]}` for --no-healthcheck (which excludes every
 * --health-* flag), `{Test: ["CMD-SHELL", cmd], …}` when any --health-* flag is given, else none (the
 * image's stays). `checked` turns a value's parse error into the flag's error (run-flags.ts).
 */
export function healthConfig(
  f: FlagValues,
  checked: <T>(name: string, value: string, parse: (v: string) => T) => T,
): HealthConfig | undefined {
  const text = (name: string) => f[name] as string | undefined;
  const value = (name: string, parse: (v: string) => number) => {
    const v = text(name);
    return v === undefined ? 0 : checked(name, v, parse);
  };
  const cmd = text('health-cmd') ?? '';
  const interval = value('health-interval', parseGoDuration);
  const timeout = value('health-timeout', parseGoDuration);
  const startPeriod = value('health-start-period', parseGoDuration);
  const startInterval = value('health-start-interval', parseGoDuration);
  const retries = value('health-retries', parseInt32);
  const any =
    cmd !== '' ||
    interval !== 0 ||
    timeout !== 0 ||
    startPeriod !== 0 ||
    retries !== 0 ||
    startInterval !== 0;
  if (f['no-healthcheck'] === true) {
    if (any) throw new Error('--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  if (!any) return undefined;
  if (interval < 0) throw new Error('--health-interval cannot be negative');
  if (timeout < 0) throw new Error('--health-timeout cannot be negative');
  if (retries < 0) throw new Error('--health-retries cannot be negative');
  if (startPeriod < 0) throw new Error('--health-start-period cannot be negative');
  if (startInterval < 0) throw new Error('--health-start-interval cannot be negative');
  return {
    ...(cmd !== '' ? { Test: ['CMD-SHELL', cmd] } : {}),
    Interval: interval,
    Timeout: timeout,
    StartPeriod: startPeriod,
    StartInterval: startInterval,
    Retries: retries,
  };
}
