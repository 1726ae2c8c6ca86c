/**
 * Docker's units (go-units): byte sizes and human durations.
 *
 * Byte sizes: "512m", "1g", "64k", "100b", any case. RAMInBytes (memory, shm,
 * tmpfs sizes) counts in powers of 1024; FromHumanSize (json-file's max-size) in powers of 1000.
 */
const RAM_SIZE = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/;
const POWER: Record<string, number> = { k: 1, m: 2, g: 3, t: 4, p: 5 };

function parseSize(text: string, base: number): number {
  const m = RAM_SIZE.exec(text);
  const value = m ? Number(m[1]) : Number.NaN;
  if (!m || Number.isNaN(value)) throw new Error(`invalid size: '${text}'`);
  const power = m[2] ? POWER[m[2].toLowerCase()]! : 0;
  return Math.trunc(value * base ** power);
}

/** Bytes of a size as `docker run --memory` reads it; an Error worded as go-units' when it does not parse. */
export const ramInBytes = (text: string): number => parseSize(text, 1024);

/** Bytes of a size in decimal units, as `--log-opt max-size` reads it (10m = 10,000,000). */
export const fromHumanSize = (text: string): number => parseSize(text, 1000);

/** units.HumanDuration: "Less than a second", "About a minute", "2 hours", "3 weeks", … */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3_600_000);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / 3_600_000) / 24 / 365)} years`;
}
