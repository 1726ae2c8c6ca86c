/** `skiff volume prune`: unused anonymous volumes (every unused one with -a), as docker 23+. */
import { parsePruneFilters } from '../../../engine/index.ts';
import type { CommandDef } from '../../command.ts';
import { confirm, continuePrompt } from '../../confirm.ts';
import { humanSize } from '../../render/index.ts';
import { volumeError, withVolumes } from './shared.ts';

const WARN_ANONYMOUS =
  'WARNING! This will remove anonymous local volumes not used by at least one container.';
const WARN_ALL = 'WARNING! This will remove all local volumes not used by at least one container.';

const command: CommandDef = {
  usage: '[OPTIONS]',
  summary: 'Remove unused local volumes',
  args: { min: 0, max: 0 },
  flags: [
    {
      name: 'all',
      short: 'a',
      type: 'bool',
      description: 'Remove all unused volumes, not just anonymous ones',
    },
    {
      name: 'filter',
      type: 'list',
      description: 'Provide filter values (e.g. "label=<label>")',
    },
    { name: 'force', short: 'f', type: 'bool', description: 'Do not prompt for confirmation' },
  ],
  async run(ctx, { flags }) {
    let options: ReturnType<typeof parsePruneFilters>;
    try {
      options = parsePruneFilters((flags.filter as string[]) ?? [], Boolean(flags.all));
    } catch (err) {
      throw volumeError(err);
    }
    if (!flags.force && !(await confirm(ctx, continuePrompt(options.all ? WARN_ALL : WARN_ANONYMOUS))))
      return 0;
    const result = await withVolumes(ctx, (store) => store.prune(options));
    if (result.deleted.length > 0)
      ctx.out(`Deleted Volumes:\n${result.deleted.map((n) => `${n}\n`).join('')}\n`);
    ctx.out(`Total reclaimed space: ${humanSize(result.reclaimed)}\n`);
    return 0;
  },
};

export default command;
