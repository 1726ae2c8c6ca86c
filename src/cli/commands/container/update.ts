/**
 * `skiff update [OPTIONS] CONTAINER [CONTAINER...]`: new resource limits for running or stopped
 * containers (docker's flags and wording; --restart is not handled here: restart policies are the
 * lifecycle's). Prints each container as given.
 */
import { ramInBytes } from '../../../common/index.ts';
import type { ResourceUpdate } from '../../../engine/index.ts';
import { type CommandDef, EXIT_FAILURE, EXIT_USAGE, StatusError } from '../../command.ts';
import type { FlagSpec, FlagValues } from '../../flags.ts';
import { forEachContainer, withEngine } from './shared.ts';

const str = (name: string, description: string, extra: Partial<FlagSpec> = {}): FlagSpec => ({
  name,
  type: 'string',
  description,
  ...extra,
});

const FLAGS: readonly FlagSpec[] = [
  str('cpu-shares', 'CPU shares (relative weight)', { short: 'c', valueName: 'int' }),
  str('cpus', 'Number of CPUs', { valueName: 'decimal' }),
  str('cpuset-cpus', 'CPUs in which to allow execution (0-3, 0,1)'),
  str('memory', 'Memory limit', { short: 'm', valueName: 'bytes' }),
  str('memory-reservation', 'Memory soft limit', { valueName: 'bytes' }),
  str('memory-swap', 'Swap limit equal to memory plus swap: -1 to enable unlimited swap', {
    valueName: 'bytes',
  }),
  str('pids-limit', 'Tune container pids limit (set -1 for unlimited)', { valueName: 'int' }),
];

/** Runs one flag's parser; its failure becomes pflag's message (exit 125). */
function flagValue<T>(flags: FlagValues, name: string, parse: (v: string) => T): T | undefined {
  const value = flags[name];
  if (typeof value !== 'string') return undefined;
  try {
    return parse(value);
  } catch (err) {
    const spec = FLAGS.find((f) => f.name === name)!;
    const shown = spec.short ? `-${spec.short}, --${spec.name}` : `--${spec.name}`;
    throw new StatusError(
      `invalid argument "${value}" for "${shown}" flag: ${(err as Error).message}\nSee 'skiff update --help'.`,
      EXIT_USAGE,
    );
  }
}

/** Go's strconv.ParseInt(v, 10, 64). */
function parseInt64(text: string): number {
  if (!/^[+-]?\d+$/.test(text)) throw new Error(`strconv.ParseInt: parsing "${text}": invalid syntax`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new Error(`strconv.ParseInt: parsing "${text}": value out of range`);
  return n;
}

/** docker's opts.NanoCPUs: a decimal number of CPUs in billionths. */
function parseNanoCpus(text: string): number {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(text)) throw new Error(`failed to parse ${text} as a rational number`);
  const [whole = '0', frac = ''] = text.replace(/^[+-]/, '').split('.');
  if (frac.replace(/0+$/, '').length > 9) throw new Error('value is too precise');
  const nano = Number(whole) * 1e9 + Number(frac.padEnd(9, '0').slice(0, 9) || '0');
  return text.startsWith('-') ? -nano : nano;
}

/** The update the flags ask for (undefined fields: not given). */
export function resourceUpdateOf(flags: FlagValues): ResourceUpdate {
  const update: ResourceUpdate = {
    Memory: flagValue(flags, 'memory', ramInBytes),
    MemoryReservation: flagValue(flags, 'memory-reservation', ramInBytes),
    MemorySwap: flagValue(flags, 'memory-swap', (v) => (v === '-1' ? -1 : ramInBytes(v))),
    NanoCpus: flagValue(flags, 'cpus', parseNanoCpus),
    CpuShares: flagValue(flags, 'cpu-shares', parseInt64),
    CpusetCpus: flagValue(flags, 'cpuset-cpus', (v) => v),
    PidsLimit: flagValue(flags, 'pids-limit', parseInt64),
  };
  for (const key of Object.keys(update) as (keyof ResourceUpdate)[])
    if (update[key] === undefined) delete update[key];
  return update;
}

const command: CommandDef = {
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Update configuration of one or more containers',
  args: { min: 1 },
  flags: FLAGS,
  async run(ctx, { flags, args }) {
    const update = resourceUpdateOf(flags);
    if (Object.keys(update).length === 0)
      throw new StatusError('you must provide one or more flags when using this command', EXIT_FAILURE);
    return withEngine(ctx, (engine) =>
      forEachContainer(ctx, args, async (ref) => {
        const { warnings } = await engine.update(ref, update);
        for (const w of warnings) ctx.err(`WARNING: ${w}\n`);
        return ref;
      }),
    );
  },
};

export default command;
