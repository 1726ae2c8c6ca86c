import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Mount points on the host whose source or target mentions `needle` (a leak check). */
export function hostMountsMentioning(needle: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => line.includes(needle));
}

/** cgroup directories named like `needle` anywhere under /sys/fs/cgroup (a leak check). */
export function cgroupDirsNamed(needle: string): string[] {
  const found: string[] = [];
  for (const hierarchy of readdirSync('/sys/fs/cgroup')) {
    const base = `/sys/fs/cgroup/${hierarchy}`;
    try {
      for (const entry of readdirSync(base, { recursive: true, withFileTypes: true })) {
        if (entry.isDirectory() && entry.name.includes(needle))
          found.push(`${entry.parentPath}/${entry.name}`);
      }
    } catch {
      // Not a directory (e.g. a file at the top of a v2 mount): nothing to look through.
    }
  }
  return found;
}

/** Polls `check` until it returns true or the deadline passes. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let delay = 2;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 100);
  }
  return check();
}

/** Runs an ES module script in another Node process; resolves with its stdout, rejects on a non-zero exit. */
export function runNodeScript(script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err}`))));
  });
}

/** Processes (other than this one) whose command line mentions `needle` (a leak check, a wait). */
export function processesMentioning(needle: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmdline.includes(needle) && Number(pid) !== process.pid) found.push(`${pid}: ${cmdline}`);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}
