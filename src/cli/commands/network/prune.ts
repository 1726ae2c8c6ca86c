/** `skiff network prune`: skiff's own networks that no container uses (never the default one). */
import {
  containersUsing,
  DEFAULT_NETWORK,
  matchesPruneFilters,
  parseSystemPruneFilters,
} from '../../../engine/index.ts';
import type { CommandDef } from '../../command.ts';
import { confirm, continuePrompt } from '../../confirm.ts';
import { networkError, withNetworks } from './shared.ts';

const WARNING = 'WARNING! This will remove all custom networks not used by at least one container.';

const command: CommandDef = {
  usage: '[OPTIONS]',
  summary: 'Remove all unused networks',
  args: { min: 0, max: 0 },
  flags: [
    { name: 'filter', type: 'list', description: 'Provide filter values (e.g. "until=<timestamp>")' },
    { name: 'force', short: 'f', type: 'bool', description: 'Do not prompt for confirmation' },
  ],
  async run(ctx, { flags }) {
    // The same filters as system prune's: until, label, label! (docker's prune filters).
    let filters: ReturnType<typeof parseSystemPruneFilters>;
    try {
      filters = parseSystemPruneFilters((flags.filter as string[]) ?? []);
    } catch (err) {
      throw networkError(err);
    }
    if (!flags.force && !(await confirm(ctx, continuePrompt(WARNING)))) return 0;
    const deleted = await withNetworks(ctx, async ({ engine, networks }) => {
      const removed: string[] = [];
      for (const n of await networks.list()) {
        if (!n.managed || n.name === DEFAULT_NETWORK || !matchesPruneFilters(filters, n.created, n.labels))
          continue;
        if (containersUsing(engine.paths, engine.records, n).length > 0) continue;
        await networks.remove(n);
        engine.emitNetwork('destroy', n.name, n.id);
        removed.push(n.name);
      }
      return removed;
    });
    if (deleted.length > 0) ctx.out(`Deleted Networks:\n${deleted.map((n) => `${n}\n`).join('')}`);
    return 0;
  },
};

export default command;
