import { existsSync } from 'node:fs';
import path from 'node:path';
import { failedPrecondition } from './errors.ts';

const cache = new Map<string, string>();

/**
 * A program of native/build (skiff-shim, skiff-mount, skiff-layer-nodes, …): $<envVar> when set, else
 * the first native/build/<name> above this module (the checkout, or the bundle's install tree).
 */
export function nativeTool(name: string, envVar: string): string {
  const fromEnv = process.env[envVar];
  if (fromEnv) return fromEnv;
  const cached = cache.get(name);
  if (cached) return cached;
  let dir = path.dirname(new URL(import.meta.url).pathname);
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'native', 'build', name);
    if (existsSync(candidate)) {
      cache.set(name, candidate);
      return candidate;
    }
    dir = path.dirname(dir);
  }
  throw failedPrecondition(`${name} not found (nor $${envVar}): run \`make setup\` to build native/`);
}
