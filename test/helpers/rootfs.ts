import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');
export const PROBE = path.join(REPO_ROOT, 'native', 'build', 'skiff-probe');
const BUSYBOX = '/bin/busybox';

let applets: string[] | undefined;

function busyboxApplets(): string[] {
  applets ??= execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  return applets;
}

/**
 * Makes a minimal rootfs from Debian's busybox-static: busybox and its applet links in /bin,
 * /etc/passwd and /etc/group, the empty directories the runtime mounts on, and `/probe`,
 * the static helper that reports from inside the container.
 */
export function makeRootfs(dir: string): string {
  for (const sub of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'home/user']) {
    mkdirSync(path.join(dir, sub), { recursive: true });
  }
  chmodSync(path.join(dir, 'tmp'), 0o1777);
  copyFileSync(BUSYBOX, path.join(dir, 'bin', 'busybox'));
  chmodSync(path.join(dir, 'bin', 'busybox'), 0o755);
  for (const applet of busyboxApplets()) {
    if (applet !== 'busybox') symlinkSync('busybox', path.join(dir, 'bin', applet));
  }
  copyFileSync(PROBE, path.join(dir, 'probe'));
  chmodSync(path.join(dir, 'probe'), 0o755);
  writeFileSync(
    path.join(dir, 'etc', 'passwd'),
    'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n',
  );
  writeFileSync(path.join(dir, 'etc', 'group'), 'root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n');
  return dir;
}

/** A temporary directory removed by `cleanup`. */
export function tempDir(prefix = 'skiff-test-', parent = tmpdir()): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(parent, prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
