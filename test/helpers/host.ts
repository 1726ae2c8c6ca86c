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
