/** `skiff network ls`: NETWORK ID, NAME, DRIVER, SCOPE, as `docker network ls`. */
import { type CommandDef, daemonError } from '../../command.ts';
import { renderItems, struct } from '../../render/index.ts';
import { labelsText } from '../volume/shared.ts';
import { allViews, type NetworkView, withNetworks } from './shared.ts';

const DEFAULT_FORMAT = 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';
const HEADERS = {
  ID: 'NETWORK ID',
  Name: 'NAME',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  IPv6: 'IPV6',
  Internal: 'INTERNAL',
  Labels: 'LABELS',
  CreatedAt: 'CREATED AT',
};

type Filter = (v: NetworkView) => boolean;

/** docker's network filters: driver, id (prefix), label (key or key=value), name (substring), scope, type. */
function parseFilters(values: readonly string[]): Filter {
  const byKey = new Map<string, string[]>();
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw daemonError(`bad format of filter (expected name=value): ${v}`);
    const key = v.slice(0, eq);
    if (!['driver', 'id', 'label', 'name', 'scope', 'type', 'dangling'].includes(key))
      throw daemonError(`invalid filter '${key}'`);
    byKey.set(key, [...(byKey.get(key) ?? []), v.slice(eq + 1)]);
  }
  const tests: Record<string, (v: NetworkView, want: string) => boolean> = {
    driver: (v, w) => v.driver === w,
    id: (v, w) => v.id.startsWith(w),
    label: (v, w) => {
      const eq = w.indexOf('=');
      return eq === -1 ? w in v.labels : v.labels[w.slice(0, eq)] === w.slice(eq + 1);
    },
    name: (v, w) => v.name.includes(w),
    scope: (_v, w) => w === 'local',
    type: (v, w) => (w === 'builtin' ? v.builtin : w === 'custom' ? !v.builtin : false),
    dangling: () => true,
  };
  // Values of one key: any matches; different keys: all must.
  return (v) => [...byKey].every(([key, wants]) => wants.some((w) => tests[key]!(v, w)));
}

const command: CommandDef = {
  usage: '[OPTIONS]',
  summary: 'List networks',
  args: { min: 0, max: 0 },
  flags: [
    { name: 'filter', short: 'f', type: 'list', description: "Provide filter values (e.g. 'driver=bridge')" },
    { name: 'format', type: 'string', description: 'Format output using a custom template' },
    { name: 'no-trunc', type: 'bool', description: 'Do not truncate the output' },
    { name: 'quiet', short: 'q', type: 'bool', description: 'Only display network IDs' },
  ],
  async run(ctx, { flags }) {
    const keep = parseFilters((flags.filter as string[]) ?? []);
    const views = (await withNetworks(ctx, ({ networks }) => allViews(networks))).filter(keep);
    views.sort((a, b) => a.name.localeCompare(b.name));
    const trunc = !flags['no-trunc'];
    const items = views.map((v) =>
      struct('*formatter.networkContext', {
        ID: trunc ? v.id.slice(0, 12) : v.id,
        Name: v.name,
        Driver: v.driver,
        Scope: 'local',
        IPv6: 'false',
        Internal: String(v.internal),
        Labels: labelsText(v.labels),
        CreatedAt: v.created,
      }),
    );
    const format = flags.quiet ? '{{.ID}}' : String(flags.format ?? '');
    ctx.out(renderItems(items, { format, defaultFormat: DEFAULT_FORMAT, headers: HEADERS }));
    return 0;
  },
};

export default command;
