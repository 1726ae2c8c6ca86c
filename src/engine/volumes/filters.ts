/** Docker's `--filter key=value` strings for volume ls and volume prune, checked as moby checks them. */
import { invalidArgument } from '../../common/index.ts';
import type { PruneOptions, VolumeFilters } from './store.ts';

function split(value: string): [string, string] {
  const eq = value.indexOf('=');
  if (eq === -1) throw invalidArgument(`bad format of filter (expected name=value)`);
  return [value.slice(0, eq).toLowerCase(), value.slice(eq + 1)];
}

/** A bad value is moby's volume-service invalidFilter ("Invalid …", capitalised unlike a bad key). */
function parseBool(key: string, arg: string): boolean {
  const lower = arg.toLowerCase();
  if (lower === 'true' || lower === '1') return true;
  if (lower === 'false' || lower === '0') return false;
  throw invalidArgument(`Invalid filter '${key}=${arg}'`);
}

/** `volume ls --filter`: dangling, driver, label, name. */
export function parseVolumeFilters(values: readonly string[]): VolumeFilters {
  let dangling: boolean | undefined;
  const name: string[] = [];
  const label: string[] = [];
  const driver: string[] = [];
  for (const value of values) {
    const [key, arg] = split(value);
    if (key === 'dangling') dangling = parseBool(key, arg);
    else if (key === 'name') name.push(arg);
    else if (key === 'label') label.push(arg);
    else if (key === 'driver') driver.push(arg);
    else throw invalidArgument(`invalid filter '${key}'`);
  }
  for (const re of name)
    try {
      new RegExp(re);
    } catch (err) {
      throw invalidArgument(`invalid filter 'name=${re}': ${(err as Error).message}`, err);
    }
  return { ...(dangling === undefined ? {} : { dangling }), name, label, driver };
}

/** `volume prune --filter`: label, label!, all (API 1.42). */
export function parsePruneFilters(values: readonly string[], all = false): PruneOptions {
  const label: string[] = [];
  let pruneAll = all;
  for (const value of values) {
    const [key, arg] = split(value);
    if (key === 'label') label.push(arg);
    else if (key === 'label!') label.push(`!${arg}`);
    else if (key === 'all') {
      if (all) throw invalidArgument('conflicting options: cannot specify both --all and --filter all=1');
      pruneAll = parseBool(key, arg);
    } else throw invalidArgument(`invalid filter '${key}'`);
  }
  return { all: pruneAll, label };
}
