/** Podman driving skiff-runtime in a throw-away store (shared by the podman e2e tests). */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { SKIFF_RUNTIME } from './cli.ts';
import { makeRootfs, tempDir } from './rootfs.ts';

export const IMAGE = 'localhost/skiff-busybox:latest';

/**
 * Podman (Debian's) drives skiff-runtime (or `runtime`, e.g. runc) through conmon: a real client of the runc command line.
 * Storage and run state live in a temporary directory so that nothing of the host's podman is touched.
 */
export function podmanHarness(options: { runtime?: string } = {}) {
  const work = tempDir('skiff-podman-');
  const conf = path.join(work.dir, 'containers.conf');
  writeFileSync(conf, '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n');
  const base = [
    '--root',
    path.join(work.dir, 'storage'),
    '--runroot',
    path.join(work.dir, 'run'),
    '--storage-driver',
    'vfs',
    '--cgroup-manager',
    'cgroupfs',
    // Its own libpod tmpdir (exit codes, locks), network configs and volumes: another harness's
    // `system reset` running beside it must not remove what this one's containers need.
    '--tmpdir',
    path.join(work.dir, 'tmp'),
    '--network-config-dir',
    path.join(work.dir, 'networks'),
    '--volumepath',
    path.join(work.dir, 'volumes'),
    '--events-backend',
    'none',
    '--runtime',
    options.runtime ?? SKIFF_RUNTIME,
  ];
  const podman = (args: string[]) =>
    spawnSync('podman', [...base, ...args], {
      encoding: 'utf8',
      env: { ...process.env, CONTAINERS_CONF: conf },
      timeout: 120_000,
    });
  const rootfs = makeRootfs(path.join(work.dir, 'rootfs'));
  const tar = path.join(work.dir, 'rootfs.tar');
  execFileSync('tar', ['-C', rootfs, '-cf', tar, '.']);
  const imported = podman(['import', tar, IMAGE]);
  assert.equal(imported.status, 0, imported.stderr);
  return {
    podman,
    /** The podman command line as one shell word list (for `script -c`), with the harness's options. */
    command: (args: string[]) =>
      [`CONTAINERS_CONF=${conf}`, 'podman', ...base, ...args].map(shellQuote).join(' '),
    cleanup: () => {
      podman(['rm', '--all', '--force']);
      // Storage may hold read-only layers; podman removes what it made.
      podman(['system', 'reset', '--force']);
      work.cleanup();
    },
  };
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}
