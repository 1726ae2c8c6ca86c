import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './rootfs.ts';

export const SKIFF_RUNTIME = path.join(REPO_ROOT, 'bin', 'skiff-runtime');

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs `bin/skiff-runtime` (the bundled CLI, as users and podman run it). */
export function skiffRuntime(args: string[], options: { input?: string } = {}): CliResult {
  const result = spawnSync(SKIFF_RUNTIME, args, {
    encoding: 'utf8',
    input: options.input ?? '',
    timeout: 60_000,
  });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}
