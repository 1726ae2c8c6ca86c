/**
 * `skiff system prune`: stopped containers, dangling images (every unused one with -a) and, with
 * --volumes, unused anonymous volumes, with docker's prompt and report.
 */
import { type PruneFilters, parseSystemPruneFilters, systemPrune } from '../../../engine/index.ts';
import { type CommandDef, EXIT_FAILURE, StatusError } from '../../command.ts';
import { confirm, continuePrompt } from '../../confirm.ts';
import { humanSize } from '../../render/index.ts';
import { containerError, withEngine } from '../container/shared.ts';
import { familiar } from '../image/shared.ts';
import { naturalCompare } from '../volume/shared.ts';

/** docker's confirmation message: what goes, then the filters (sorted naturally) if any. */
export function pruneWarning(options: {
  all: boolean;
  volumes: boolean;
  filters: readonly string[];
}): string {
  const warnings = ['all stopped containers', 'all networks not used by at least one container'];
  if (options.volumes) warnings.push('all anonymous volumes not used by at least one container');
  warnings.push(
    options.all ? 'all images without at least one container associated to them' : 'all dangling images',
  );
  warnings.push(options.all ? 'all build cache' : 'unused build cache');
  let text = `WARNING! This will remove:\n${warnings.map((w) => `  - ${w}\n`).join('')}`;
  const filters = [...options.filters].sort(naturalCompare);
  if (filters.length > 0)
    text += `\n  Items to be pruned will be filtered with:\n${filters.map((f) => `  - ${f}\n`).join('')}`;
  return continuePrompt(text);
}

/** The filters as docker echoes them (key=value, keys lower case). */
function filterTexts(values: readonly string[]): string[] {
  return values.map((v) => {
    const eq = v.indexOf('=');
    return eq === -1 ? v : `${v.slice(0, eq).toLowerCase()}${v.slice(eq)}`;
  });
}

const command: CommandDef = {
  usage: '[OPTIONS]',
  summary: 'Remove unused data',
  args: { min: 0, max: 0 },
  flags: [
    { name: 'all', short: 'a', type: 'bool', description: 'Remove all unused images not just dangling ones' },
    { name: 'filter', type: 'list', description: 'Provide filter values (e.g. "label=<key>=<value>")' },
    { name: 'force', short: 'f', type: 'bool', description: 'Do not prompt for confirmation' },
    { name: 'volumes', type: 'bool', description: 'Prune anonymous volumes' },
  ],
  async run(ctx, { flags }) {
    const all = Boolean(flags.all);
    const volumes = Boolean(flags.volumes);
    const values = (flags.filter as string[] | undefined) ?? [];
    // docker's CLI refuses this itself, before asking the daemon.
    if (volumes && values.some((v) => v.split('=')[0]?.toLowerCase() === 'until'))
      throw new StatusError('ERROR: The "until" filter is not supported with "--volumes"', EXIT_FAILURE);
    let filters: PruneFilters;
    try {
      filters = parseSystemPruneFilters(values, { volumes });
    } catch (err) {
      throw containerError(err, '');
    }
    if (!flags.force && !(await confirm(ctx, pruneWarning({ all, volumes, filters: filterTexts(values) }))))
      return 0;
    const result = await withEngine(ctx, (engine) => systemPrune(engine, { all, volumes, filters })).catch(
      (err: unknown) => {
        throw containerError(err, '');
      },
    );
    if (result.containersDeleted.length > 0)
      ctx.out(`Deleted Containers:\n${result.containersDeleted.map((id) => `${id}\n`).join('')}\n`);
    if (result.volumesDeleted.length > 0)
      ctx.out(`Deleted Volumes:\n${result.volumesDeleted.map((n) => `${n}\n`).join('')}\n`);
    if (result.imagesUntagged.length + result.imagesDeleted.length > 0) {
      ctx.out('Deleted Images:\n');
      for (const name of result.imagesUntagged) ctx.out(`untagged: ${familiar(name)}\n`);
      for (const id of result.imagesDeleted) ctx.out(`deleted: ${id}\n`);
      ctx.out('\n');
    }
    ctx.out(`Total reclaimed space: ${humanSize(result.reclaimed)}\n`);
    return 0;
  },
};

export default command;
