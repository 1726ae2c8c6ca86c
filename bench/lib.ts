/** What the benchmarks share: medians, round-robin timing, and the report lines. */
import { existsSync } from 'node:fs';
import path from 'node:path';

export interface Result {
  name: string;
  median?: number;
  note?: string;
}

export interface Runner {
  name: string;
  once: () => Promise<void> | void;
  /** Untimed, after every run (also a failed one): puts things back for the next (an empty store). */
  reset?: () => Promise<void> | void;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const firstLine = (err: unknown) => (err as Error).message.split('\n')[0]!;

/**
 * Times every runner `iterations` times, round-robin (one run of each per round), so that a slow
 * spell of this shared VM weighs on all of them alike and the ratios stay meaningful. A runner that
 * fails is dropped with its error as the note.
 */
export async function measureInterleaved(
  runners: Runner[],
  iterations: number,
  warmup = 3,
): Promise<Result[]> {
  const times = new Map<string, number[]>(runners.map((r) => [r.name, []]));
  const notes = new Map<string, string>();
  const live = async (r: Runner, record: boolean) => {
    if (notes.has(r.name)) return;
    try {
      const start = process.hrtime.bigint();
      await r.once();
      if (record) times.get(r.name)!.push(Number(process.hrtime.bigint() - start) / 1e6);
    } catch (err) {
      notes.set(r.name, firstLine(err));
    }
    await r.reset?.();
  };
  for (let i = 0; i < warmup; i++) for (const r of runners) await live(r, false);
  for (let i = 0; i < iterations; i++) for (const r of runners) await live(r, true);
  return runners.map((r) =>
    notes.has(r.name)
      ? { name: r.name, note: notes.get(r.name)! }
      : { name: r.name, median: median(times.get(r.name)!) },
  );
}

/** One line per result: the median and its ratio to the `base` result. */
export function report(title: string, results: Result[], base: string, unit = 'ms'): void {
  const reference = results.find((r) => r.name === base)?.median;
  console.log(title);
  for (const r of results) {
    const ratio = r.median !== undefined && reference ? `${(r.median / reference).toFixed(2)}× ${base}` : '';
    const figure = r.median !== undefined ? `${r.median.toFixed(1)} ${unit}` : `— (${r.note})`;
    console.log(`  ${r.name.padEnd(36)} ${figure.padStart(12)}  ${ratio}`);
  }
}

export function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}
