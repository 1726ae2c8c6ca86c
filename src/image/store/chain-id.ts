import { createHash } from 'node:crypto';
import type { Digest } from '../digest.ts';

/**
 * The chain IDs of a stack of layers, as the OCI image spec (config.md, "Layer ChainID") defines them:
 * ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)). A chain ID names a
 * layer together with everything below it, so one unpacked directory serves every image sharing it.
 */
export function chainIds(diffIds: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const diffId of diffIds) {
    const parent = out.at(-1);
    out.push(
      parent === undefined
        ? diffId
        : `sha256:${createHash('sha256').update(`${parent} ${diffId}`).digest('hex')}`,
    );
  }
  return out;
}
