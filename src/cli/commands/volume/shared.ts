/** What the volume verbs share: opening the store, docker's errors, the fields volumes print as. */
import { SkiffError } from '../../../common/index.ts';
import { enginePaths, type Volume, VolumeStore } from '../../../engine/index.ts';
import { type Context, daemonError, StatusError } from '../../command.ts';

/** Runs fn with the volume store open, closing it after; engine errors become docker's. */
export async function withVolumes<T>(ctx: Context, fn: (store: VolumeStore) => Promise<T> | T): Promise<T> {
  const store = VolumeStore.open(enginePaths(ctx.globals.root, ctx.globals.runroot));
  try {
    return await fn(store);
  } catch (err) {
    throw volumeError(err);
  } finally {
    store.close();
  }
}

/** An engine failure as docker prints the daemon's: `Error response from daemon: …`. */
export function volumeError(err: unknown): StatusError {
  if (err instanceof StatusError) return err;
  if (err instanceof SkiffError) return daemonError(err.message);
  throw err;
}

/** time.RFC3339 at seconds, as the local driver reports CreatedAt. */
export function createdAt(volume: Volume): string {
  return `${new Date(volume.createdAt).toISOString().slice(0, 19)}Z`;
}

/** docker's `k=v,k2=v2` of a label map (sorted, as Go ranges it for the formatter). */
export function labelsText(labels: Readonly<Record<string, string>>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}

/** sortorder.NaturalLess: digit runs compare as numbers. */
export function naturalCompare(a: string, b: string): number {
  const split = (s: string) => s.match(/\d+|\D+/g) ?? [];
  const pa = split(a);
  const pb = split(b);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    const nx = /^\d/.test(x);
    const ny = /^\d/.test(y);
    if (nx && ny) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
      return x.length - y.length;
    }
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

/** Docker's `key=value` flag values into a map (--label, --opt); a bare key maps to ''. */
export function keyValues(values: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const eq = v.indexOf('=');
    if (eq === -1) out[v] = '';
    else out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}
