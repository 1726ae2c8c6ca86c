/** HostConfig.SecurityOpt read as dockerd's parseSecurityOpt does. */
import { invalidArgument } from '../../common/index.ts';

export interface SecurityOptions {
  /** 'builtin' (Docker's default profile), 'unconfined', or a profile's JSON text. */
  readonly seccomp: string;
  readonly noNewPrivileges: boolean;
  /** Accepted as Docker does; this host has no AppArmor, so the profile is not applied. */
  readonly apparmor?: string;
  /** SELinux label options: accepted, not applied (no SELinux here). */
  readonly labels: readonly string[];
}

const BOOL: Record<string, boolean> = { '1': true, t: true, T: true, true: true, TRUE: true, True: true };
for (const f of ['0', 'f', 'F', 'false', 'FALSE', 'False']) BOOL[f] = false;

export function parseSecurityOpts(opts: readonly string[] | null | undefined): SecurityOptions {
  let seccomp = 'builtin';
  let noNewPrivileges = false;
  let apparmor: string | undefined;
  const labels: string[] = [];
  for (const opt of opts ?? []) {
    if (opt === 'no-new-privileges') {
      noNewPrivileges = true;
      continue;
    }
    if (opt === 'disable') {
      labels.push('disable');
      continue;
    }
    const sep = opt.includes('=') ? '=' : opt.includes(':') ? ':' : undefined;
    if (!sep) throw invalidArgument(`invalid --security-opt 1: "${opt}"`);
    const at = opt.indexOf(sep);
    const key = opt.slice(0, at);
    const value = opt.slice(at + 1);
    switch (key) {
      case 'label':
        labels.push(value);
        break;
      case 'apparmor':
        apparmor = value;
        break;
      case 'seccomp':
        seccomp = value === '' ? 'builtin' : value;
        break;
      case 'no-new-privileges': {
        const b = BOOL[value];
        if (b === undefined) throw invalidArgument(`invalid --security-opt 2: "${opt}"`);
        noNewPrivileges = b;
        break;
      }
      default:
        throw invalidArgument(`invalid --security-opt 2: "${opt}"`);
    }
  }
  return { seccomp, noNewPrivileges, ...(apparmor !== undefined && { apparmor }), labels };
}
