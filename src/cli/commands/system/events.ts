/**
 * `skiff events` / `skiff system events`: the engine's events (persisted in skiff.db, so they reach
 * back across CLI invocations), docker's flags and line format. Without --until it follows the log,
 * polling it, until interrupted; with --until it stops once that time has passed.
 */
import { writeSync } from 'node:fs';
import { SkiffError } from '../../../common/index.ts';
import {
  type EngineEvent,
  type EventFilter,
  EventLog,
  openEngineDb,
  parseEventFilters,
  parseRfc3339Nano,
  parseTimeArg,
} from '../../../engine/index.ts';
import { type CommandDef, daemonError } from '../../command.ts';
import { renderItems, struct } from '../../render/index.ts';

const POLL_MS = 150;

/** Docker's GetTimestamp for --since/--until, in nanoseconds since the epoch (exact for Unix seconds). */
export function parseEventTime(text: string, now: Date = new Date()): bigint {
  const unix = /^(\d+)(?:\.(\d{1,9}))?$/.exec(text.trim());
  if (unix) return BigInt(unix[1]!) * 1_000_000_000n + BigInt((unix[2] ?? '').padEnd(9, '0') || '0');
  const exact = parseRfc3339Nano(text.trim());
  if (exact) return BigInt(exact.date.getTime()) * 1_000_000n + BigInt(exact.subMillisNanos);
  return BigInt(parseTimeArg(text, now).getTime()) * 1_000_000n;
}

/** Go's RFC3339NanoFixed in the local zone (docker formats time.Unix(0, timeNano), a local time). */
export function eventTimeText(timeNano: bigint): string {
  const ms = Number(timeNano / 1_000_000n);
  const date = new Date(ms);
  const offsetMin = -date.getTimezoneOffset();
  const local = new Date(ms + offsetMin * 60_000).toISOString().slice(0, 19);
  const nanos = String(timeNano % 1_000_000_000n).padStart(9, '0');
  if (offsetMin === 0) return `${local}.${nanos}Z`;
  const abs = Math.abs(offsetMin);
  const zone = `${offsetMin < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${local}.${nanos}${zone}`;
}

/** docker's prettyPrintEvent: `TIME TYPE ACTION ID (k=v, …)` with the attributes sorted by key. */
export function eventLine(event: EngineEvent, timeNano: bigint): string {
  const attrs = Object.keys(event.Actor.Attributes)
    .sort()
    .map((k) => `${k}=${event.Actor.Attributes[k]}`);
  const tail = attrs.length > 0 ? ` (${attrs.join(', ')})` : '';
  return `${eventTimeText(timeNano)} ${event.Type} ${event.Action} ${event.Actor.ID}${tail}\n`;
}

/**
 * The event as docker's events.Message for templates: its JSON fields (with the deprecated status,
 * id and from docker still fills for container and image events) and the Go field names.
 */
export function eventData(event: EngineEvent): Record<string, unknown> {
  const legacy: { status?: string; id?: string; from?: string } =
    event.Type === 'container' || event.Type === 'image'
      ? {
          status: event.Action,
          id: event.Actor.ID,
          ...(event.Type === 'container' && event.Actor.Attributes.image
            ? { from: event.Actor.Attributes.image }
            : {}),
        }
      : {};
  // Go's encoding/json writes a map's keys sorted.
  const attributes = Object.fromEntries(
    Object.keys(event.Actor.Attributes)
      .sort()
      .map((k) => [k, event.Actor.Attributes[k]]),
  );
  const actor = { ID: event.Actor.ID, Attributes: attributes };
  const data = struct('events.Message', { ...legacy, ...event, Actor: actor });
  const goNames: Record<string, unknown> = {
    Status: legacy.status ?? '',
    ID: legacy.id ?? '',
    From: legacy.from ?? '',
    Scope: event.scope,
    Time: event.time,
    TimeNano: event.timeNano,
  };
  for (const [name, value] of Object.entries(goNames))
    Object.defineProperty(data, name, { value, enumerable: false });
  return data;
}

const command: CommandDef = {
  usage: '[OPTIONS]',
  summary: 'Get real time events from the server',
  args: { min: 0, max: 0 },
  flags: [
    { name: 'filter', short: 'f', type: 'list', description: 'Filter output based on conditions provided' },
    {
      name: 'format',
      type: 'string',
      description:
        "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template",
    },
    { name: 'since', type: 'string', description: 'Show all events created since timestamp' },
    { name: 'until', type: 'string', description: 'Stream events until this timestamp' },
  ],
  async run(ctx, { flags }) {
    const now = new Date();
    let filter: EventFilter;
    let since: bigint | undefined;
    let until: bigint | undefined;
    try {
      filter = parseEventFilters((flags.filter as string[] | undefined) ?? []);
      if (flags.since !== undefined) since = parseEventTime(String(flags.since), now);
      if (flags.until !== undefined) until = parseEventTime(String(flags.until), now);
    } catch (err) {
      if (err instanceof SkiffError) throw daemonError(err.message);
      throw err;
    }
    const format = typeof flags.format === 'string' ? flags.format : '';
    const print = (event: EngineEvent, timeNano: bigint): boolean => {
      if (!filter(event)) return true;
      const text =
        format === ''
          ? eventLine(event, timeNano)
          : renderItems([eventData(event)], { format, defaultFormat: '', headers: {} });
      return write(text);
    };
    const db = openEngineDb(ctx.globals.root);
    try {
      await streamEvents(new EventLog(db), { since, until }, print);
    } finally {
      db.close();
    }
    return 0;
  },
};

/**
 * moby's SubscribeToEvents: the stored events between since and until first (none when neither is
 * given), then the new ones as they come, until `until` has passed (forever without it).
 */
async function streamEvents(
  log: EventLog,
  range: { since?: bigint; until?: bigint },
  print: (event: EngineEvent, timeNano: bigint) => boolean,
): Promise<void> {
  let seq = log.lastSeq();
  if (range.since !== undefined || range.until !== undefined) {
    for (const e of log.list({ since: range.since ?? 0n, until: range.until, afterSeq: undefined })) {
      if (e.seq > seq) break;
      if (!print(e.event, e.timeNanoExact)) return;
    }
  }
  const nowNanos = () => BigInt(Date.now()) * 1_000_000n;
  while (range.until === undefined || nowNanos() <= range.until) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    for (const e of log.list({ afterSeq: seq })) {
      seq = e.seq;
      if (range.until !== undefined && e.timeNanoExact > range.until) return;
      if (range.since !== undefined && e.timeNanoExact < range.since) continue;
      if (!print(e.event, e.timeNanoExact)) return;
    }
  }
}

/**
 * Writes to standard output; false once its reader is gone (EPIPE), which ends a follow (docker's
 * CLI dies of SIGPIPE there: `skiff events | head -1` must not poll forever).
 */
function write(text: string): boolean {
  const bytes = Buffer.from(text);
  let off = 0;
  while (off < bytes.length) {
    try {
      off += writeSync(1, bytes, off);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') continue;
      if (code === 'EPIPE') return false;
      throw err;
    }
  }
  return true;
}

export default command;
