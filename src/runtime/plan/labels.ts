import type { PlanStep } from './types.ts';

// runc gives the mount label to every new filesystem but these (libcontainer/rootfs_linux.go).
const UNLABELLED_FSTYPES = new Set(['', 'proc', 'sysfs', 'mqueue', 'cgroup', 'cgroup2']);

/**
 * `linux.mountLabel`: SELinux's `context=` option on the filesystems the container mounts, as runc
 * (label.FormatMountLabel). The `selinux-mount-label` record checks, before any mount, that the
 * host has SELinux: a label is never dropped silently.
 */
export function withMountLabel(steps: PlanStep[], label: string | undefined): PlanStep[] {
  if (!label) return steps;
  return steps.map((step) => {
    if (step.op !== 'mount' || UNLABELLED_FSTYPES.has(step.fstype)) return step;
    const context = `context="${label}"`;
    return { ...step, data: step.data ? `${step.data},${context}` : context };
  });
}
