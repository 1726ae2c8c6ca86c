import { encodeSecurityStep } from './encode-security.ts';
import type { Plan, PlanStep } from './types.ts';

/** Encodes a plan in the record format of native/PLAN.md: `op\0argc\0arg…\0` per record. */
export function encodePlan(plan: Plan): Buffer {
  const records: string[][] = [['version', String(plan.version)]];
  const { setup } = plan;
  for (const procs of setup.cgroupProcs) records.push(['cgroup', procs]);
  for (const join of setup.joins) records.push(['join', join.type, join.path]);
  records.push(['clone', String(setup.cloneFlags)]);
  if (setup.timeOffsets !== undefined) records.push(['timens', setup.timeOffsets]);
  if (setup.setgroups) records.push(['setgroups', setup.setgroups]);
  if (setup.uidMap !== undefined) records.push(['uidmap', setup.uidMap]);
  if (setup.gidMap !== undefined) records.push(['gidmap', setup.gidMap]);
  if (setup.fifo !== undefined) records.push(['fifo', setup.fifo]);
  records.push(['preserve-fds', String(setup.preserveFds)]);
  if (setup.consoleSocket !== undefined) records.push(['console-socket', setup.consoleSocket]);
  if (setup.consoleRelay) records.push(['console-relay']);
  if (setup.seccompCache !== undefined) records.push(['seccomp-cache', setup.seccompCache]);
  for (const m of setup.hostMounts ?? [])
    records.push(['host-mount', m.target, m.type, m.source, String(m.flags), m.data, m.cwd]);
  for (const step of plan.steps) records.push(encodeStep(step));

  const parts: string[] = [];
  for (const [op, ...args] of records) {
    parts.push(op!, String(args.length), ...args);
  }
  for (const part of parts) {
    if (part.includes('\0')) throw new TypeError(`plan token contains a NUL byte: ${JSON.stringify(part)}`);
  }
  return Buffer.from(`${parts.join('\0')}\0`);
}

function encodeStep(step: PlanStep): string[] {
  switch (step.op) {
    case 'become-root':
      return [step.op];
    case 'oom-score-adj':
      return [step.op, String(step.value)];
    case 'hostname':
    case 'domainname':
      return [step.op, step.name];
    case 'propagation':
      return [step.op, String(step.flags)];
    case 'rootfs':
      return [step.op, step.path];
    case 'mount':
      return [
        step.op,
        step.source,
        step.destination,
        step.fstype,
        String(step.flags),
        step.data,
        step.create,
      ];
    case 'remount':
    case 'propagate':
      return [step.op, step.destination, String(step.flags)];
    case 'mknod':
      return [
        step.op,
        step.path,
        String(step.mode),
        String(step.major),
        String(step.minor),
        String(step.uid),
        String(step.gid),
      ];
    case 'symlink':
      return [step.op, step.target, step.path];
    case 'mask':
    case 'readonly':
      return [step.op, step.path];
    case 'sysctl':
      return [step.op, step.key, step.value];
    case 'remount-root':
      return [step.op, String(step.flags)];
    case 'pivot':
      return [step.op, step.mode];
    case 'rlimit':
      return [step.op, String(step.resource), step.soft.toString(), step.hard.toString()];
    case 'user':
      return [step.op, String(step.uid), String(step.gid), step.additionalGids.join(',')];
    case 'umask':
      return [step.op, String(step.mask)];
    case 'cwd':
      return [step.op, step.path];
    case 'env':
      return [step.op, step.entry];
    case 'sync':
      return [step.op, step.name];
    case 'hook-state':
      return [step.op, step.when];
    case 'hook':
      return [
        step.op,
        step.when,
        step.path,
        String(step.timeout),
        String(step.args.length),
        ...step.args,
        ...step.env,
      ];
    case 'ioprio':
      return [step.op, String(step.ioClass), String(step.level)];
    case 'sched':
      return [
        step.op,
        String(step.policy),
        String(step.nice),
        String(step.priority),
        step.flags.toString(),
        step.runtime.toString(),
        step.deadline.toString(),
        step.period.toString(),
      ];
    case 'personality':
      return [step.op, String(step.persona)];
    case 'reaper':
      return [step.op];
    case 'mkdir-cwd':
      return [step.op, step.path];
    case 'exec':
      return [step.op, ...step.args];
    case 'terminal':
      return [
        step.op,
        String(step.rows),
        String(step.cols),
        String(step.uid),
        String(step.gid),
        step.console ? 'console' : 'none',
      ];
    default:
      return encodeSecurityStep(step);
  }
}
