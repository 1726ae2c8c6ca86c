import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, tempDir } from './rootfs.ts';

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

/**
 * Runs `bin/skiff-runtime` with its output in files rather than pipes: a container made by `create`
 * inherits the caller's stdio (as with runc), so pipes would stay open until the container exits.
 */
export function skiffRuntimeToFiles(args: string[]): CliResult {
  const dir = tempDir('skiff-cli-');
  const out = openSync(path.join(dir.dir, 'out'), 'w+');
  const err = openSync(path.join(dir.dir, 'err'), 'w+');
  try {
    const result = spawnSync(SKIFF_RUNTIME, args, { stdio: ['ignore', out, err], timeout: 60_000 });
    return {
      status: result.status ?? -1,
      stdout: readFileSync(path.join(dir.dir, 'out'), 'utf8'),
      stderr: readFileSync(path.join(dir.dir, 'err'), 'utf8'),
    };
  } finally {
    closeSync(out);
    closeSync(err);
    dir.cleanup();
  }
}
