/**
 * `skiff logs`: the container's json-file log (src/engine/logs), stdout messages to stdout and stderr
 * messages to stderr; -f keeps reading until the container is no longer running.
 */
import { SkiffError } from '../../../common/index.ts';
import { type Engine, formatLogEntry, parseTimeArg, readLogs } from '../../../engine/index.ts';
import { type CommandDef, EXIT_FAILURE, StatusError } from '../../command.ts';
import { containerError, withEngine } from './shared.ts';

/** docker's --tail: a count, or everything for "all" (and anything that is not a count, as moby). */
export function parseTail(value: unknown): number | 'all' {
  const text = String(value ?? 'all').trim();
  if (!/^\d+$/.test(text)) return 'all';
  return Number(text);
}

function timeFlag(value: unknown, name: string, now: Date): Date | undefined {
  if (value === undefined || value === '') return undefined;
  try {
    return parseTimeArg(String(value), now);
  } catch (err) {
    throw new StatusError(`invalid value for "${name}": ${(err as Error).message}`, EXIT_FAILURE);
  }
}

/** True once the container is no longer running (or is gone): following ends after the drain. */
async function stopped(engine: Engine, id: string): Promise<boolean> {
  try {
    return (await engine.inspect(id)).state !== 'running';
  } catch (err) {
    if (err instanceof SkiffError && err.kind === 'NotFound') return true;
    throw err;
  }
}

const command: CommandDef = {
  usage: '[OPTIONS] CONTAINER',
  summary: 'Fetch the logs of a container',
  args: { min: 1, max: 1 },
  flags: [
    { name: 'details', type: 'bool', description: 'Show extra details provided to logs' },
    { name: 'follow', short: 'f', type: 'bool', description: 'Follow log output' },
    {
      name: 'since',
      type: 'string',
      description:
        'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',
    },
    {
      name: 'tail',
      short: 'n',
      type: 'string',
      description: 'Number of lines to show from the end of the logs',
      defaultText: '"all"',
    },
    { name: 'timestamps', short: 't', type: 'bool', description: 'Show timestamps' },
    {
      name: 'until',
      type: 'string',
      description:
        'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',
    },
  ],
  async run(ctx, { flags, args }) {
    const ref = args[0]!;
    if (flags.details)
      throw new StatusError(
        'Error response from daemon: --details is not supported: the json-file log of skiff carries no log attributes',
        EXIT_FAILURE,
      );
    const now = new Date();
    const since = timeFlag(flags.since, 'since', now);
    const until = timeFlag(flags.until, 'until', now);
    const tail = parseTail(flags.tail);
    const timestamps = Boolean(flags.timestamps);
    return withEngine(ctx, async (engine) => {
      let file: string;
      let id: string;
      try {
        const c = await engine.inspect(ref);
        if (c.hostConfig.LogConfig?.Type === 'none')
          throw new StatusError(
            'Error response from daemon: configured logging driver does not support reading',
            EXIT_FAILURE,
          );
        file = engine.paths_(c).log;
        id = c.id;
      } catch (err) {
        throw containerError(err, ref);
      }
      const follow = Boolean(flags.follow);
      const entries = readLogs(file, {
        tail,
        since,
        until,
        follow,
        ...(follow ? { stopWhen: () => stopped(engine, id) } : {}),
      });
      for await (const entry of entries) {
        const text = formatLogEntry(entry, { timestamps });
        if (entry.stream === 'stderr') ctx.err(text);
        else ctx.out(text);
      }
      return 0;
    });
  },
};

export default command;
