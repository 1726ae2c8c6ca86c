/** Docker's capability rules (moby oci/caps): normalised names, ALL, --cap-add / --cap-drop. */
import { readFileSync } from 'node:fs';
import { invalidArgument } from '../../common/index.ts';
import { ALL_CAPABILITIES } from '../../runtime/index.ts';

/** "net_admin", "CAP_NET_ADMIN" and "Net_Admin" all name CAP_NET_ADMIN; ALL stays ALL. */
export function normalizeCapabilities(names: readonly string[]): string[] {
  return names.map((name) => {
    let cap = name.toUpperCase();
    if (cap === 'ALL') return cap;
    if (!cap.startsWith('CAP_')) cap = `CAP_${cap}`;
    if (!ALL_CAPABILITIES.includes(cap)) throw invalidArgument(`unknown capability: "${cap}"`);
    return cap;
  });
}

/**
 * Every capability a privileged container can hold: those of the kernel that this process still has
 * in its bounding set. Docker gives every capability the kernel knows; here root itself lacks some
 * (CAP_SYS_RESOURCE on these machines), and a capability the runtime does not hold cannot be granted,
 * so asking for it would only make the container fail to start.
 */
export function hostCapabilities(statusText = readFileSync('/proc/self/status', 'utf8')): string[] {
  const match = /^CapBnd:\s*([0-9a-f]+)$/m.exec(statusText);
  const mask = match ? BigInt(`0x${match[1]}`) : 0n;
  return ALL_CAPABILITIES.filter((_, i) => (mask >> BigInt(i)) & 1n);
}

/** moby's TweakCapabilities: the container's capability list. */
export function tweakCapabilities(
  basics: readonly string[],
  adds: readonly string[],
  drops: readonly string[],
  privileged: boolean,
  all: () => readonly string[] = hostCapabilities,
): string[] {
  if (privileged) return [...all()];
  if (adds.length === 0 && drops.length === 0) return [...basics];
  const capDrop = normalizeCapabilities(drops);
  const capAdd = normalizeCapabilities(adds);
  let caps: string[];
  if (capAdd.includes('ALL')) caps = all().filter((c) => !capDrop.includes(c));
  else if (capDrop.includes('ALL')) caps = [...capAdd];
  else caps = [...basics.filter((c) => !capDrop.includes(c)), ...capAdd];
  return [...new Set(caps)];
}
