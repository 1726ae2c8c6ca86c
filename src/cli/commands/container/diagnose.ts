/**
 * `skiff diagnose CONTAINER`: the container as the kernel sees it, and what is wrong
 * (src/engine/diagnose/). `--format json` prints the report (schemaVersion 1, README.md).
 */
import { DEFAULT_DIAGNOSE_INTERVAL_MS, diagnoseContainer } from '../../../engine/index.ts';
import { type CommandDef, EXIT_USAGE, StatusError } from '../../command.ts';
import { renderDiagnose } from './diagnose-text.ts';
import { containerError, withEngine } from './shared.ts';

/** A Go-style duration (`2s`, `500ms`, `1m`) or a number of seconds. */
export function parseIntervalMs(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match)
    throw new StatusError(
      `invalid argument "${text}" for "--interval" flag: use a duration such as 2s or 500ms`,
      EXIT_USAGE,
    );
  const scale = { ms: 1, s: 1000, m: 60_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm'];
  return Math.round(Number(match[1]) * scale);
}

const command: CommandDef = {
  usage: '[OPTIONS] CONTAINER',
  summary: 'Show a container as the kernel sees it and what is wrong with it',
  args: { min: 1, max: 1 },
  flags: [
    { name: 'format', short: 'f', type: 'string', description: "Output format: 'text' (default) or 'json'" },
    {
      name: 'interval',
      type: 'string',
      description: 'How long to sample CPU throttling and process states (0 looks once)',
      defaultText: `${DEFAULT_DIAGNOSE_INTERVAL_MS / 1000}s`,
      valueName: 'duration',
    },
  ],
  async run(ctx, { flags, args }) {
    const format = String(flags.format ?? 'text');
    if (format !== 'text' && format !== 'json')
      throw new StatusError(`invalid argument "${format}" for "--format" flag: use text or json`, EXIT_USAGE);
    const intervalMs = flags.interval === undefined ? undefined : parseIntervalMs(String(flags.interval));
    const ref = args[0]!;
    const report = await withEngine(ctx, (engine) =>
      diagnoseContainer(engine, ref, intervalMs === undefined ? {} : { intervalMs }),
    ).catch((err: unknown) => {
      throw containerError(err, ref);
    });
    ctx.out(format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderDiagnose(report));
    return 0;
  },
};

export default command;
