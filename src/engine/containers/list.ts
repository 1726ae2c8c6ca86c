/**
 * Docker's container list (`docker ps`, GET /containers/json): which containers (all, the last N,
 * --filter) and the writable layer's size (-s). Filters are parsed once into predicates so that bad
 * input is reported before any container is looked at, with the daemon's wording.
 */
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { invalidArgument } from '../../common/index.ts';
import { dockerStateString } from './inspect.ts';
import type { Container } from './records.ts';
import { isRestarting } from './restart-policy.ts';

export interface ListOptions {
  /** -a: every container, not only running ones. */
  all?: boolean;
  /** -n N (and -l = 1): the N most recently created, running or not. */
  limit?: number;
  /** --filter key=value (repeatable). */
  filters?: readonly string[];
}

/** What a filter needs to look up beyond the container itself. */
export interface FilterLookups {
  /** The image ids a reference names (the `ancestor` filter); empty when it names none. */
  imageIds(ref: string): string[];
  /** A container by name or id (the `before` / `since` filters). */
  container(ref: string): Container;
  /** Its health status: starting, healthy, unhealthy or none (the `health` filter). */
  health?(c: Container): string;
}

const HEALTH_STATES = ['starting', 'healthy', 'unhealthy', 'none'];
const STATES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];
const KEYS = new Set([
  'id',
  'name',
  'label',
  'status',
  'exited',
  'ancestor',
  'before',
  'since',
  'volume',
  'network',
  'health',
  'is-task',
]);

type Predicate = (c: Container) => boolean;

/** Go's regexp.MatchString (unanchored), as moby's filters.Match after an exact match fails. */
function goMatch(pattern: string, source: string): boolean {
  if (pattern === source) return true;
  try {
    return new RegExp(pattern).test(source);
  } catch {
    return false;
  }
}

/** Splits `key=value` filter arguments into a map of key → values, refusing unknown keys. */
export function parseFilterArgs(values: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const value of values) {
    const eq = value.indexOf('=');
    if (eq === -1) throw invalidArgument('bad format of filter (expected name=value)');
    const key = value.slice(0, eq).trim().toLowerCase();
    if (!KEYS.has(key)) throw invalidArgument(`invalid filter '${key}'`);
    out.set(key, [...(out.get(key) ?? []), value.slice(eq + 1)]);
  }
  return out;
}

/** One predicate per filter key (values of one key are alternatives, keys must all hold). */
export function buildFilter(values: readonly string[], lookups: FilterLookups): Predicate {
  const args = parseFilterArgs(values);
  const preds: Predicate[] = [];
  const any = (key: string, test: (value: string, c: Container) => boolean) => {
    const vals = args.get(key);
    if (vals) preds.push((c) => vals.some((v) => test(v, c)));
  };
  for (const s of args.get('status') ?? [])
    if (!STATES.includes(s)) throw invalidArgument(`invalid filter 'status=${s}'`);
  const exited = (args.get('exited') ?? []).map((v) => {
    if (!/^-?\d+$/.test(v)) throw invalidArgument(`invalid filter 'exited=${v}'`);
    return Number(v);
  });
  any('id', (v, c) => goMatch(v, c.id));
  // As moby: the API name (`/web`) or the name without its slash (so `name=^web$` works too).
  any('name', (v, c) => goMatch(v, `/${c.name}`) || goMatch(v, c.name));
  any('label', (v, c) => labelMatches(v, c.config.Labels ?? {}));
  any('status', (v, c) => v === dockerStateString(c));
  if (exited.length > 0)
    preds.push((c) => c.state !== 'running' && c.startedAt !== undefined && exited.includes(c.exitCode ?? 0));
  const ancestors = args.get('ancestor');
  if (ancestors) {
    const ids = new Set(ancestors.flatMap((a) => lookups.imageIds(a)));
    preds.push((c) => ids.has(c.imageId));
  }
  const pivot = (key: string) => {
    const vals = args.get(key);
    return vals?.length ? lookups.container(vals[vals.length - 1]!) : undefined;
  };
  const before = pivot('before');
  if (before) preds.push((c) => c.created < before.created);
  const after = pivot('since');
  if (after) preds.push((c) => c.created > after.created);
  any('volume', (v, c) =>
    c.mounts.some((m) => m.name === v || m.source === v || m.destination === v.replace(/(.)\/+$/, '$1')),
  );
  any('network', (v, c) => (c.hostConfig.NetworkMode || 'none') === v);
  for (const h of args.get('health') ?? [])
    if (!HEALTH_STATES.includes(h)) throw invalidArgument(`Unrecognised filter value for health: ${h}`);
  any('health', (v, c) => v === (lookups.health?.(c) ?? 'none'));
  any('is-task', (v) => v === 'false');
  return (c) => preds.every((p) => p(c));
}

/** moby's MatchKVList: `key` (present) or `key=value` (equal). */
function labelMatches(filter: string, labels: Record<string, string>): boolean {
  const eq = filter.indexOf('=');
  if (eq === -1) return Object.hasOwn(labels, filter);
  return labels[filter.slice(0, eq)] === filter.slice(eq + 1);
}

/**
 * Docker's selection: newest first; without -a (and without -n or a status filter) only running
 * containers; -n keeps the N newest after filtering.
 */
export function selectContainers(
  containers: readonly Container[],
  options: ListOptions,
  lookups: FilterLookups,
): Container[] {
  const filters = options.filters ?? [];
  const filter = buildFilter(filters, lookups);
  const limit = options.limit !== undefined && options.limit > 0 ? options.limit : undefined;
  const hasStatus = filters.some((f) => f.trim().toLowerCase().startsWith('status='));
  const all = options.all || limit !== undefined || hasStatus;
  const sorted = [...containers].sort((a, b) =>
    a.created < b.created ? 1 : a.created > b.created ? -1 : a.id < b.id ? 1 : -1,
  );
  // Restarting counts as running (Docker's State.Running stays true during the back-off).
  const kept = sorted.filter((c) => (all || c.state === 'running' || isRestarting(c)) && filter(c));
  return limit !== undefined ? kept.slice(0, limit) : kept;
}

/**
 * Bytes of the files under dir (not following symlinks; hard links counted once), as Docker's
 * directory.Size measures a container's writable layer. A missing dir is 0.
 */
export async function directorySize(dir: string): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  const walk = async (p: string): Promise<void> => {
    let entries: string[];
    try {
      entries = await readdir(p);
    } catch {
      return; // gone, or not a directory: nothing to count
    }
    for (const name of entries) {
      const full = path.join(p, name);
      let st: Awaited<ReturnType<typeof lstat>>;
      try {
        st = await lstat(full);
      } catch {
        continue;
      }
      if (st.isDirectory()) {
        await walk(full);
        continue;
      }
      const key = `${st.dev}:${st.ino}`;
      if (st.nlink > 1) {
        if (seen.has(key)) continue;
        seen.add(key);
      }
      total += st.size;
    }
  };
  await walk(dir);
  return total;
}
