/**
 * linux.intelRdt through the resctrl filesystem (runtime-spec config-linux.md "IntelRdt", as runc's
 * intelrdt manager): the container's init joins a resctrl group — `closID`, or the container id —
 * whose `schemata` get the config's L3 cache and memory bandwidth lines. The group is made when it
 * does not exist (and then removed with the container); an existing group must already hold the
 * schemata asked for, since other containers share it.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  failedPrecondition,
  hasErrno,
  invalidArgument,
  notImplemented,
  syscallError,
} from '../common/index.ts';
import type { IntelRdt } from '../oci/index.ts';

export const RESCTRL_ROOT = '/sys/fs/resctrl';

/** What is remembered to undo the join at delete: the group, and whether create made it. */
export interface RdtRecord {
  dir: string;
  created: boolean;
}

export interface RdtPlan {
  group: string;
  /** Lines for the group's `schemata` file, one write each. */
  lines: string[];
}

/** The group and schemata lines a config asks for (pure; unit-tested). */
export function planIntelRdt(rdt: IntelRdt, containerId: string): RdtPlan {
  if (rdt.enableMonitoring) {
    throw notImplemented(
      'config.json: linux.intelRdt.enableMonitoring: resctrl monitoring groups are not implemented',
    );
  }
  const group = rdt.closID ?? containerId;
  if (
    !/^[\w.+-]+$/.test(group) ||
    group === '.' ||
    group === '..' ||
    group === 'info' ||
    group === 'mon_groups'
  ) {
    throw invalidArgument(`config.json: linux.intelRdt.closID "${group}" is not a usable resctrl group name`);
  }
  const lines: string[] = [];
  if (rdt.l3CacheSchema) lines.push(...rdt.l3CacheSchema.split('\n'));
  if (rdt.memBwSchema) lines.push(...rdt.memBwSchema.split('\n'));
  lines.push(...(rdt.schemata ?? []));
  const kept = lines.map((l) => l.trim()).filter(Boolean);
  for (const line of kept) {
    if (!/^[A-Z0-9]+:\s*\S/.test(line)) {
      throw invalidArgument(
        `config.json: linux.intelRdt: schemata line "${line}" is not RESOURCE:ID=VALUE;…`,
      );
    }
  }
  return { group, lines: kept };
}

/** Whether every line we would write is already what the group's `schemata` says (by resource). */
export function schemataMatch(current: string, lines: readonly string[]): boolean {
  const normalise = (l: string) => l.replace(/\s+/g, '');
  const have = new Set(current.split('\n').map(normalise));
  return lines.every((line) => have.has(normalise(line)));
}

/** Puts the init (before it runs the program) into its resctrl group. */
export function joinIntelRdt(
  rdt: IntelRdt,
  containerId: string,
  pid: number,
  root = RESCTRL_ROOT,
): RdtRecord {
  if (!existsSync(path.join(root, 'schemata'))) {
    throw failedPrecondition(
      `config.json: linux.intelRdt needs the resctrl filesystem at ${root}, which this host does not have ` +
        '(mount -t resctrl resctrl /sys/fs/resctrl on a CPU with Intel RDT / AMD PQoS), or drop linux.intelRdt',
    );
  }
  const plan = planIntelRdt(rdt, containerId);
  const dir = path.join(root, plan.group);
  let created = false;
  try {
    mkdirSync(dir);
    created = true;
  } catch (err) {
    if (!hasErrno(err, 'EEXIST')) throw syscallError('mkdir', dir, err);
  }
  const schemata = path.join(dir, 'schemata');
  try {
    if (created) {
      for (const line of plan.lines) writeLine(schemata, line);
    } else if (plan.lines.length > 0 && !schemataMatch(readFileSync(schemata, 'utf8'), plan.lines)) {
      throw failedPrecondition(
        `linux.intelRdt: the resctrl group \`${dir}\` exists with other schemata than the config's; ` +
          'use another closID or the same schemata',
      );
    }
    writeLine(path.join(dir, 'tasks'), String(pid));
  } catch (err) {
    if (created) removeIntelRdt({ dir, created });
    throw err;
  }
  return { dir, created };
}

function writeLine(file: string, line: string): void {
  try {
    writeFileSync(file, `${line}\n`);
  } catch (err) {
    // resctrl explains EINVAL in info/last_cmd_status: the best message there is.
    const status = readStatus(path.join(path.dirname(path.dirname(file)), 'info', 'last_cmd_status'));
    const error = syscallError('write', `${file}: ${line}`, err);
    throw status ? failedPrecondition(`${error.message}: ${status}`, err) : error;
  }
}

function readStatus(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Removes a group create made; an existing (shared) group is left alone. */
export function removeIntelRdt(record: RdtRecord | undefined): void {
  if (!record?.created) return;
  try {
    rmdirSync(record.dir);
  } catch (err) {
    if (!hasErrno(err, 'ENOENT')) throw syscallError('rmdir', record.dir, err);
  }
}
