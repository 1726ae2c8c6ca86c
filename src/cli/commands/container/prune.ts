/**
 * `skiff container prune`: removes every stopped container (docker's filters `until` and `label`,
 * `label!=`), printing docker's "Deleted Containers:" list and the space their writable layers held.
 */
import { SkiffError } from '../../../common/index.ts';
import { type Container, containerSize, parseTimeArg } from '../../../engine/index.ts';
import { type CommandDef, daemonError } from '../../command.ts';
import { confirm, continuePrompt } from '../../confirm.ts';
import { humanSize } from '../../render/index.ts';
import { withEngine } from './shared.ts';

const WARNING = 'WARNING! This will remove all stopped containers.';

function labelMatches(filter: string, labels: Record<string, string>): boolean {
  const eq = filter.indexOf('=');
  if (eq === -1) return Object.hasOwn(labels, filter);
  return labels[filter.slice(0, eq)] === filter.slice(eq + 1);
}

/** The daemon's prune filters: `until` (created before), `label`/`label!` (all must hold). */
export function pruneFilter(filters: readonly string[], now = new Date()): (c: Container) => boolean {
  let until: number | undefined;
  const labels: string[] = [];
  const notLabels: string[] = [];
  for (const f of filters) {
    const bang = /^([a-z]+)(!?)=(.*)$/s.exec(f);
    if (!bang) throw daemonError('bad format of filter (expected name=value)');
    const [, key, not, value] = bang as unknown as [string, string, string, string];
    if (key === 'until' && !not) {
      try {
        until = parseTimeArg(value, now).getTime();
      } catch (err) {
        if (err instanceof SkiffError) throw daemonError(err.message);
        throw err;
      }
    } else if (key === 'label') (not ? notLabels : labels).push(value);
    else throw daemonError(`invalid filter '${key}${not}'`);
  }
  return (c) => {
    const l = c.config.Labels ?? {};
    return (
      (until === undefined || Date.parse(c.created) < until) &&
      labels.every((f) => labelMatches(f, l)) &&
      !notLabels.some((f) => labelMatches(f, l))
    );
  };
}

const command: CommandDef = {
  usage: '[OPTIONS]',
  summary: 'Remove all stopped containers',
  args: { min: 0, max: 0 },
  flags: [
    { name: 'filter', type: 'list', description: 'Provide filter values (e.g. "until=<timestamp>")' },
    { name: 'force', short: 'f', type: 'bool', description: 'Do not prompt for confirmation' },
  ],
  async run(ctx, { flags }) {
    const match = pruneFilter((flags.filter as string[] | undefined) ?? []);
    if (!flags.force && !(await confirm(ctx, continuePrompt(WARNING)))) return 0;
    const result = await withEngine(ctx, (engine) =>
      engine.prune(match, async (c) => (await containerSize(engine, c)).rw),
    );
    if (result.deleted.length > 0)
      ctx.out(`Deleted Containers:\n${result.deleted.map((id) => `${id}\n`).join('')}\n`);
    ctx.out(`Total reclaimed space: ${humanSize(result.reclaimed)}\n`);
    return 0;
  },
};

export default command;
