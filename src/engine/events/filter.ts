/**
 * Docker's event filters (moby daemon/events/filter.go): `--filter key=value`, several values of one
 * key match when any does, different keys must all match. `label` is the exception, as in moby:
 * every label filter must match the event's attributes. Keys: container, event, image, label,
 * type, volume, network, scope (daemon, plugin, node, service, secret, config match nothing here).
 */
import { invalidArgument } from '../../common/index.ts';
import type { EngineEvent } from './event-log.ts';

const KEYS = new Set([
  'container',
  'event',
  'image',
  'label',
  'type',
  'volume',
  'network',
  'scope',
  'daemon',
  'plugin',
  'node',
  'service',
  'secret',
  'config',
]);

/** Actions docker matches by prefix (their action carries the command: `exec_start: sh -c …`). */
const PREFIX_ACTIONS = new Set(['health_status', 'exec_create', 'exec_start']);

export type EventFilter = (event: EngineEvent) => boolean;

/** Parses `key=value` filters (Docker's words for bad ones) into one predicate. */
export function parseEventFilters(filters: readonly string[]): EventFilter {
  const args = new Map<string, string[]>();
  for (const f of filters) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw invalidArgument(`bad format of filter (expected name=value)`);
    const key = f.slice(0, eq).trim().toLowerCase();
    if (!KEYS.has(key)) throw invalidArgument(`invalid filter '${key}'`);
    args.set(key, [...(args.get(key) ?? []), f.slice(eq + 1)]);
  }
  const exact = (key: string, ...sources: (string | undefined)[]) => {
    const values = args.get(key);
    return !values || values.some((v) => sources.includes(v));
  };
  // moby's FuzzyMatch: a value matches the source exactly or as a prefix of it (an ID prefix).
  const fuzzy = (key: string, ...sources: (string | undefined)[]) => {
    const values = args.get(key);
    return !values || values.some((v) => sources.some((s) => s?.startsWith(v)));
  };
  const byName = (type: string) => (e: EngineEvent) =>
    !args.has(type) || (e.Type === type && fuzzy(type, e.Actor.ID, e.Actor.Attributes.name));
  const matchers: EventFilter[] = [
    (e) => {
      const values = args.get('event');
      if (!values) return true;
      const prefixed = values.some((v) => PREFIX_ACTIONS.has(v));
      return values.some((v) => v === e.Action || (prefixed && e.Action.startsWith(v)));
    },
    (e) => exact('type', e.Type),
    (e) => exact('scope', e.scope),
    byName('container'),
    byName('volume'),
    byName('network'),
    (e) => {
      if (!args.has('image')) return true;
      const name = e.Actor.Attributes[e.Type === 'image' ? 'name' : 'image'];
      const id = e.Type === 'container' ? undefined : e.Actor.ID;
      return exact('image', id, name, stripTag(id), stripTag(name));
    },
    (e) => (args.get('label') ?? []).every((l) => labelMatches(l, e.Actor.Attributes)),
    ...['daemon', 'plugin', 'node', 'service', 'secret', 'config'].map(
      (key) => (_e: EngineEvent) => !args.has(key),
    ),
  ];
  return (e) => matchers.every((m) => m(e));
}

/** `busybox:latest` -> `busybox` (a digest or registry port stays). */
function stripTag(ref: string | undefined): string | undefined {
  if (ref === undefined) return undefined;
  const at = ref.indexOf('@');
  if (at >= 0) return ref.slice(0, at);
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? ref.slice(0, colon) : ref;
}

function labelMatches(filter: string, attributes: Record<string, string>): boolean {
  const eq = filter.indexOf('=');
  if (eq === -1) return Object.hasOwn(attributes, filter);
  return attributes[filter.slice(0, eq)] === filter.slice(eq + 1);
}
