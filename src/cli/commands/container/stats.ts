/**
 * `skiff stats [OPTIONS] [CONTAINER...]` / `skiff container stats`: docker's live resource table (CPU %,
 * memory usage / limit and %, network and block I/O, pids) plus THROTTLED (the share of CFS periods
 * in which the container was throttled, and the time it lost), which docker does not show. Without
 * names: the running containers (-a: all), listed again at every sample; with names: those. One sample
 * a second: on a terminal the screen is cleared and the table redrawn (docker's `ESC[2J ESC[H`),
 * otherwise each table is printed after the last; --no-stream prints one table made of two readings
 * a second apart (as dockerd primes its first frame, so CPU % is real).
 */
import { isatty } from 'node:tty';
import { formatGoDuration } from '../../../common/index.ts';
import {
  type Container,
  type ContainerStats,
  computeStats,
  type Engine,
  type StatsSample,
  sampleContainer,
} from '../../../engine/index.ts';
import type { CommandDef, Context } from '../../command.ts';
import { formatG, humanSizeWithPrecision, renderItems, struct } from '../../render/index.ts';
import { containerError, withEngine } from './shared.ts';

const DEFAULT_FORMAT =
  'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}\t{{.Throttled}}';
const HEADERS = {
  Container: 'CONTAINER',
  ID: 'CONTAINER ID',
  Name: 'NAME',
  CPUPerc: 'CPU %',
  MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %',
  NetIO: 'NET I/O',
  BlockIO: 'BLOCK I/O',
  PIDs: 'PIDS',
  Throttled: 'THROTTLED',
  Periods: 'PERIODS',
  ThrottledPeriods: 'THROTTLED PERIODS',
  ThrottledTime: 'THROTTLED TIME',
};
const INTERVAL_MS = 1000;
const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

/** go-units BytesSize: `%.4g` in powers of 1024 (`1.953MiB`). */
export function bytesSize(size: number): string {
  let unit = 0;
  while (size >= 1024 && unit < BINARY_UNITS.length - 1) {
    size /= 1024;
    unit++;
  }
  return `${formatG(size, 4)}${BINARY_UNITS[unit]}`;
}

const percent = (value: number) => `${value.toFixed(2)}%`;
const io = (a: number, b: number) => `${humanSizeWithPrecision(a, 3)} / ${humanSizeWithPrecision(b, 3)}`;

/** The throttled time as a Go duration, to the millisecond (`1.25s`). */
const throttledTime = (ns: number) => formatGoDuration(Math.round(ns / 1e6) * 1e6);

export interface StatsEntry {
  /** What the user named it by (or the short ID when listing). */
  readonly ref: string;
  readonly container: Container;
  /** undefined: not running (docker's zeros). */
  readonly stats?: ContainerStats;
}

/** One row as docker's *formatter.statsContext (its JSON: fields in alphabetical order). */
export function statsRow(entry: StatsEntry, trunc: boolean): Record<string, unknown> {
  const s = entry.stats;
  return struct('*formatter.statsContext', {
    BlockIO: io(s?.blockRead ?? 0, s?.blockWrite ?? 0),
    CPUPerc: percent(s?.cpuPercent ?? 0),
    Container: entry.ref,
    ID: trunc ? entry.container.id.slice(0, 12) : entry.container.id,
    MemPerc: percent(s?.memoryPercent ?? 0),
    MemUsage: `${bytesSize(s?.memoryUsage ?? 0)} / ${bytesSize(s?.memoryLimit ?? 0)}`,
    Name: entry.container.name || '--',
    NetIO: io(s?.netRx ?? 0, s?.netTx ?? 0),
    PIDs: String(s?.pids ?? 0),
    Periods: String(s?.periods ?? 0),
    Throttled:
      s?.throttledPercent === undefined
        ? '--'
        : `${percent(s.throttledPercent)} (${throttledTime(s.throttledNs)})`,
    ThrottledPeriods: String(s?.throttledPeriods ?? 0),
    ThrottledTime: throttledTime(s?.throttledNs ?? 0),
  });
}

interface Selection {
  readonly refs: readonly string[];
  readonly all: boolean;
}

/** The containers to show now: the named ones (resolved once), or the running (all with -a) ones. */
async function select(
  engine: Engine,
  sel: Selection,
  named: Map<string, string>,
): Promise<[string, Container][]> {
  if (sel.refs.length > 0) {
    const out: [string, Container][] = [];
    for (const [ref, id] of named) {
      const c = engine.records.get(id);
      if (c) out.push([ref, await engine.refresh(c)]);
    }
    return out;
  }
  const list = await engine.list();
  return list
    .filter((c) => sel.all || c.state === 'running')
    .sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0))
    .map((c) => [c.id.slice(0, 12), c]);
}

/** Readings of every selected container, keyed by id. */
async function sampleAll(
  engine: Engine,
  containers: readonly [string, Container][],
): Promise<Map<string, StatsSample>> {
  const samples = new Map<string, StatsSample>();
  for (const [, c] of containers) {
    const sample = await sampleContainer(engine, c).catch(() => undefined);
    if (sample) samples.set(c.id, sample);
  }
  return samples;
}

function entries(
  containers: readonly [string, Container][],
  prev: Map<string, StatsSample>,
  cur: Map<string, StatsSample>,
): StatsEntry[] {
  return containers.map(([ref, container]) => {
    const sample = cur.get(container.id);
    return sample
      ? { ref, container, stats: computeStats(prev.get(container.id), sample) }
      : { ref, container };
  });
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

async function stream(
  ctx: Context,
  engine: Engine,
  sel: Selection,
  named: Map<string, string>,
  render: (e: StatsEntry[]) => string,
): Promise<void> {
  const terminal = isatty(1);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    let prev = new Map<string, StatsSample>();
    while (!stop.signal.aborted) {
      const containers = await select(engine, sel, named);
      const cur = await sampleAll(engine, containers);
      const table = render(entries(containers, prev, cur));
      // docker clears the screen and homes the cursor before each table on a terminal.
      ctx.out(terminal ? `\x1b[2J\x1b[H${table}` : table);
      prev = cur;
      await sleep(INTERVAL_MS, stop.signal);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

const command: CommandDef = {
  usage: '[OPTIONS] [CONTAINER...]',
  summary: 'Display a live stream of container(s) resource usage statistics',
  args: { min: 0 },
  flags: [
    {
      name: 'all',
      short: 'a',
      type: 'bool',
      description: 'Show all containers (default shows just running)',
    },
    {
      name: 'format',
      type: 'string',
      description:
        "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template",
    },
    {
      name: 'no-stream',
      type: 'bool',
      description: 'Disable streaming stats and only pull the first result',
    },
    { name: 'no-trunc', type: 'bool', description: "Don't truncate output" },
  ],
  async run(ctx, { flags, args }) {
    const trunc = !flags['no-trunc'];
    const format = String(flags.format ?? '');
    const render = (list: StatsEntry[]) =>
      renderItems(
        list.map((e) => statsRow(e, trunc)),
        { format, defaultFormat: DEFAULT_FORMAT, headers: HEADERS },
      );
    // A template that does not parse is refused before anything is read.
    render([]);
    const sel: Selection = { refs: args, all: Boolean(flags.all) };
    return withEngine(ctx, async (engine) => {
      const named = new Map<string, string>();
      for (const ref of args) {
        try {
          named.set(ref, engine.records.resolve(ref).id);
        } catch (err) {
          throw containerError(err, ref);
        }
      }
      if (!flags['no-stream']) {
        await stream(ctx, engine, sel, named, render);
        return 0;
      }
      // Two readings a second apart: CPU % needs a delta (dockerd primes its first frame the same way).
      const containers = await select(engine, sel, named);
      const first = await sampleAll(engine, containers);
      if (first.size > 0) await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS));
      ctx.out(render(entries(containers, first, await sampleAll(engine, containers))));
      return 0;
    });
  },
};

export default command;
