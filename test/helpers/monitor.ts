import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Spec } from '../../src/oci/index.ts';
import type { MonitorOptions, Runtime } from '../../src/runtime/index.ts';
import { makeBundle, type TestBundle, uniqueId } from './bundle.ts';
import { eventually } from './host.ts';
import { tempDir } from './rootfs.ts';

export interface Monitored {
  id: string;
  bundle: TestBundle;
  /** The monitor's directory (attach, exit, monitor.pid); the log is ctr.log in it. */
  dir: string;
  log: string;
  monitorPid: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether the monitor process has gone (it is no child of ours: poll). */
export function monitorGone(pid: number, timeoutMs = 10_000): Promise<boolean> {
  return eventually(() => !alive(pid), timeoutMs);
}

/**
 * Creates a container whose shim stays as its monitor (a log in the monitor dir, `oomFile: 'auto'`),
 * not yet started. After the test: the container force-deleted, the monitor waited for (killed if it
 * is still there after that), the directories removed.
 */
export async function createMonitored(
  runtime: Runtime,
  t: { after: (fn: () => Promise<void>) => void },
  args: string[],
  options: { edit?: (spec: Spec) => void; monitor?: Partial<MonitorOptions> } = {},
): Promise<Monitored> {
  const bundle = makeBundle(args, options.edit);
  const { dir, cleanup } = tempDir('skiff-monitor-');
  const id = uniqueId();
  const log = path.join(dir, 'ctr.log');
  let monitorPid = 0;
  t.after(async () => {
    await runtime.delete(id, { force: true }).catch(() => {});
    if (monitorPid && !(await monitorGone(monitorPid))) process.kill(monitorPid, 'SIGKILL');
    bundle.cleanup();
    cleanup();
  });
  await runtime.create({
    id,
    bundle: bundle.dir,
    monitor: { dir, logFile: log, oomFile: 'auto', ...options.monitor },
  });
  monitorPid = Number(readFileSync(path.join(dir, 'monitor.pid'), 'utf8'));
  return { id, bundle, dir, log, monitorPid };
}

/** The log's lines, parsed (each must be one JSON object). */
export function logLines(file: string): { log: string; stream: string; time: string }[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}
