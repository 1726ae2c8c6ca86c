/**
 * The data files the engine's defaults come from (specs/, see specs/SOURCES.md): found by walking up
 * from this module, so they are read from the checkout or next to the bundle in dist/. Read once, when
 * a spec is first built, so commands that build none never pay for them.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { failedPrecondition } from '../../common/index.ts';

const cache = new Map<string, unknown>();

export function readVendoredJson(name: string): unknown {
  if (cache.has(name)) return cache.get(name);
  let dir = path.dirname(new URL(import.meta.url).pathname);
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'specs', name);
    if (existsSync(candidate)) {
      const value: unknown = JSON.parse(readFileSync(candidate, 'utf8'));
      cache.set(name, value);
      return value;
    }
    dir = path.dirname(dir);
  }
  throw failedPrecondition(`specs/${name} not found above ${new URL(import.meta.url).pathname}`);
}

/** specs/docker-defaults.json: what Docker's daemon gives every container. */
export interface DockerDefaults {
  readonly capabilities: readonly string[];
  readonly maskedPaths: readonly string[];
  readonly readonlyPaths: readonly string[];
  readonly shmSize: number;
  readonly stopSignal: string;
  readonly stopTimeoutSeconds: number;
}

export const dockerDefaults = () => readVendoredJson('docker-defaults.json') as DockerDefaults;
