/** Docker's byte sizes (go-units RAMInBytes): "512m", "1g", "64k", "100b", binary units, any case. */
const RAM_SIZE = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/;
const MULTIPLIER: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/** Bytes of a size as `docker run --memory` reads it; an Error worded as go-units' when it does not parse. */
export function ramInBytes(text: string): number {
  const m = RAM_SIZE.exec(text);
  const value = m ? Number(m[1]) : Number.NaN;
  if (!m || Number.isNaN(value)) throw new Error(`invalid size: '${text}'`);
  return Math.trunc(value * (m[2] ? MULTIPLIER[m[2].toLowerCase()]! : 1));
}
