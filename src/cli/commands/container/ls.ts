/** `skiff ps` / `skiff container ls`: docker's container list, its columns, filters and templates. */
import {
  type Container,
  commandLine,
  containerPorts,
  containerSize,
  dockerStateString,
  type Engine,
  healthStatusSuffix,
  listContainers,
  listedMounts,
  networkName,
  portsColumn,
  statusText,
} from '../../../engine/index.ts';
import { type CommandDef, EXIT_USAGE, StatusError } from '../../command.ts';
import { goTimeString, imageSize, renderItems, struct, timeAgo } from '../../render/index.ts';
import { containerError, withEngine } from './shared.ts';

const DEFAULT_FORMAT =
  'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';
const HEADERS = {
  ID: 'CONTAINER ID',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Size: 'SIZE',
  Names: 'NAMES',
  Labels: 'LABELS',
  Label: () => 'LABEL',
  Mounts: 'MOUNTS',
  LocalVolumes: 'LOCAL VOLUMES',
  Networks: 'NETWORKS',
};

/** docker's formatter.Ellipsis: at most `max` characters, the last one `…` when cut. */
export function ellipsis(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  return `${chars.slice(0, max - 1).join('')}…`;
}

/** Go's strconv.Quote for the printable text a command line is. */
export function goQuote(text: string): string {
  return JSON.stringify(text)
    .replaceAll('\\u007f', '\\x7f')
    .replace(/\\u00([0-1][0-9a-f])/g, (_m, hex: string) => `\\x${hex}`);
}

/** The SIZE column: `0B (virtual 1.2MB)`. */
export function sizeText(size: { rw: number; rootFs: number } | undefined): string {
  const rw = imageSize(size?.rw ?? 0);
  return size && size.rootFs > 0 ? `${rw} (virtual ${imageSize(size.rootFs)})` : rw;
}

export interface RowOptions {
  readonly trunc: boolean;
  readonly now: number;
  readonly size?: { rw: number; rootFs: number };
  /** docker's PORTS text ("127.0.0.1:8080->80/tcp"). */
  readonly ports?: string;
  /** The health part of STATUS (" (healthy)"), from healthStatusSuffix. */
  readonly health?: string;
}

/** One container as docker's *formatter.ContainerContext: its fields (alphabetical, as its JSON). */
export function containerRow(c: Container, options: RowOptions): Record<string, unknown> {
  const labels = c.config.Labels ?? {};
  const mounts = listedMounts(c).map((m) => {
    const name = m.type === 'volume' && m.name ? m.name : m.source;
    return options.trunc ? ellipsis(name, 15) : name;
  });
  const row = struct('*formatter.ContainerContext', {
    Command: goQuote(options.trunc ? ellipsis(commandLine(c), 20) : commandLine(c)),
    CreatedAt: goTimeString(c.created),
    ID: options.trunc ? c.id.slice(0, 12) : c.id,
    Image: c.image || '<no image>',
    Labels: Object.keys(labels)
      .sort()
      .map((k) => `${k}=${labels[k]}`)
      .join(','),
    LocalVolumes: String(c.mounts.filter((m) => m.type === 'volume').length),
    Mounts: mounts.join(','),
    Names: c.name,
    Networks: networkName(c),
    Ports: options.ports ?? '',
    RunningFor: timeAgo(c.created, options.now),
    Size: sizeText(options.size),
    State: dockerStateString(c),
    Status: statusText(c, options.now) + (options.health ?? ''),
  });
  // A method in docker's template data (`{{.Label "com.example.x"}}`), not a JSON field.
  Object.defineProperty(row, 'Label', {
    value: (key: unknown) => labels[String(key)] ?? '',
    enumerable: false,
  });
  return row;
}

function parseLast(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  if (!/^-?\d+$/.test(text))
    throw new StatusError(
      `invalid argument "${text}" for "-n, --last" flag: strconv.ParseInt: parsing "${text}": invalid syntax`,
      EXIT_USAGE,
    );
  return Number(text);
}

const command: CommandDef = {
  usage: '[OPTIONS]',
  summary: 'List containers',
  args: { min: 0, max: 0 },
  flags: [
    {
      name: 'all',
      short: 'a',
      type: 'bool',
      description: 'Show all containers (default shows just running)',
    },
    { name: 'filter', short: 'f', type: 'list', description: 'Filter output based on conditions provided' },
    {
      name: 'format',
      type: 'string',
      description:
        "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template",
    },
    {
      name: 'last',
      short: 'n',
      type: 'string',
      valueName: 'int',
      description: 'Show n last created containers (includes all states)',
      defaultText: '-1',
    },
    {
      name: 'latest',
      short: 'l',
      type: 'bool',
      description: 'Show the latest created container (includes all states)',
    },
    { name: 'no-trunc', type: 'bool', description: "Don't truncate output" },
    { name: 'quiet', short: 'q', type: 'bool', description: 'Only display container IDs' },
    { name: 'size', short: 's', type: 'bool', description: 'Display total file sizes' },
  ],
  async run(ctx, { flags }) {
    const trunc = !flags['no-trunc'];
    const quiet = Boolean(flags.quiet);
    const format = quiet ? '{{.ID}}' : String(flags.format ?? '');
    // As docker: a template that shows .Size asks for the sizes, -s adds the column to the default.
    const wantSize = !quiet && (Boolean(flags.size) || format.includes('.Size'));
    const defaultFormat = flags.size ? `${DEFAULT_FORMAT}\t{{.Size}}` : DEFAULT_FORMAT;
    const limit = flags.latest ? 1 : parseLast(flags.last);
    const now = Date.now();
    const items = await withEngine(ctx, async (engine: Engine) => {
      let containers: Container[];
      try {
        containers = await listContainers(engine, {
          all: Boolean(flags.all),
          limit,
          filters: (flags.filter as string[]) ?? [],
        });
      } catch (err) {
        throw containerError(err, '');
      }
      const rows: Record<string, unknown>[] = [];
      for (const c of containers) {
        const size = wantSize ? await containerSize(engine, c) : undefined;
        const ports = portsColumn(containerPorts(engine.paths, c));
        rows.push(containerRow(c, { trunc, now, size, ports, health: healthStatusSuffix(engine, c) }));
      }
      return rows;
    });
    ctx.out(renderItems(items, { format, defaultFormat, headers: HEADERS }));
    return 0;
  },
};

export default command;
