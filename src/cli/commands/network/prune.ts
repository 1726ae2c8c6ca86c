/** `skiff network prune`: skiff's own networks that no container uses (never the default one). */
import { containersUsing, DEFAULT_NETWORK } from '../../../engine/index.ts';
import { type CommandDef, type Context, daemonError } from '../../command.ts';
import { withNetworks } from './shared.ts';

const WARNING = 'WARNING! This will remove all custom networks not used by at least one container.';

async function confirm(ctx: Context): Promise<boolean> {
  ctx.out(`${WARNING}\nAre you sure you want to continue? [y/N] `);
  const answer = (await ctx.readLine()).trim().toLowerCase();
  return answer === 'y' || answer === 'yes';
}

/** docker's prune filters: label / label! (key or key=value), until (a time or duration). */
function parsePruneFilters(
  values: readonly string[],
): (labels: Readonly<Record<string, string>>, created: string) => boolean {
  const tests: ((labels: Readonly<Record<string, string>>, created: string) => boolean)[] = [];
  for (const v of values) {
    const eq = v.indexOf('=');
    const key = eq === -1 ? v : v.slice(0, eq);
    const value = eq === -1 ? '' : v.slice(eq + 1);
    if (key === 'label' || key === 'label!') {
      const [k, want] = value.includes('=')
        ? [value.slice(0, value.indexOf('=')), value.slice(value.indexOf('=') + 1)]
        : [value, undefined];
      const has = (labels: Readonly<Record<string, string>>) =>
        k! in labels && (want === undefined || labels[k!] === want);
      tests.push(key === 'label' ? (l) => has(l) : (l) => !has(l));
    } else if (key === 'until') {
      const limit = untilTime(value);
      tests.push((_l, created) => Date.parse(created) < limit);
    } else throw daemonError(`invalid filter '${key}'`);
  }
  return (labels, created) => tests.every((t) => t(labels, created));
}

function untilTime(value: string): number {
  const duration = /^(\d+)(s|m|h)$/.exec(value);
  if (duration)
    return Date.now() - Number(duration[1]) * { s: 1e3, m: 6e4, h: 36e5 }[duration[2] as 's' | 'm' | 'h'];
  const t = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value);
  if (Number.isNaN(t))
    throw daemonError(`invalid filter 'until=${value}': a duration (10m) or a time is expected`);
  return t;
}

const command: CommandDef = {
  usage: '[OPTIONS]',
  summary: 'Remove all unused networks',
  args: { min: 0, max: 0 },
  flags: [
    { name: 'filter', type: 'list', description: 'Provide filter values (e.g. "until=<timestamp>")' },
    { name: 'force', short: 'f', type: 'bool', description: 'Do not prompt for confirmation' },
  ],
  async run(ctx, { flags }) {
    const keep = parsePruneFilters((flags.filter as string[]) ?? []);
    if (!flags.force && !(await confirm(ctx))) return 0;
    const deleted = await withNetworks(ctx, async ({ engine, networks }) => {
      const removed: string[] = [];
      for (const n of await networks.list()) {
        if (!n.managed || n.name === DEFAULT_NETWORK || !keep(n.labels, n.created)) continue;
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
