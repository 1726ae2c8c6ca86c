import { encodeCondition } from './seccomp.ts';
import type { PlanStep } from './types.ts';

type SecurityStep = Extract<
  PlanStep,
  {
    op:
      | 'bounding'
      | 'keep-caps'
      | 'caps'
      | 'no-new-privs'
      | 'seccomp'
      | 'seccomp-arch'
      | 'seccomp-rule'
      | 'seccomp-load'
      | 'seccomp-listener'
      | 'apparmor'
      | 'selinux-label'
      | 'selinux-mount-label';
  }
>;

/** Capability masks are written in hex (`0x…`, which the shim's base-0 numbers take): bits are read by eye. */
const hex = (mask: bigint) => `0x${mask.toString(16)}`;

/** The security records of native/PLAN.md. */
export function encodeSecurityStep(step: SecurityStep): string[] {
  switch (step.op) {
    case 'bounding':
      return [step.op, hex(step.mask)];
    case 'keep-caps':
    case 'no-new-privs':
    case 'seccomp-load':
      return [step.op];
    case 'caps':
      return [step.op, hex(step.effective), hex(step.permitted), hex(step.inheritable), hex(step.ambient)];
    case 'seccomp':
      return [step.op, step.action, String(step.errno), String(step.flags)];
    case 'seccomp-arch':
      return [step.op, step.arch];
    case 'seccomp-rule':
      return [
        step.op,
        step.action,
        String(step.errno),
        step.syscall,
        step.conditions.map(encodeCondition).join(' '),
      ];
    case 'seccomp-listener':
      return [step.op, step.path, step.ociVersion, step.metadata, step.state];
    case 'apparmor':
      return [step.op, step.profile];
    case 'selinux-label':
    case 'selinux-mount-label':
      return [step.op, step.label];
  }
}
