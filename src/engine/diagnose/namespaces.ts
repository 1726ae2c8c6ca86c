/**
 * The init's 8 namespaces by inode (/proc/PID/ns/TYPE -> `net:[4026531840]`), each compared with the
 * host's and with the other running containers' inits: what `--network host`, `--pid container:x`
 * and the like really did.
 */
import { readLink } from './procfs.ts';
import { NAMESPACE_TYPES, type NamespaceFacts, type NamespaceType } from './types.ts';

/** The inode of `/proc/PID/ns/TYPE` (pid may be `self`); undefined when unreadable. */
export function namespaceInode(pid: number | string, type: NamespaceType): number | undefined {
  const match = /\[(\d+)\]$/.exec(readLink(`/proc/${pid}/ns/${type}`) ?? '');
  return match ? Number(match[1]) : undefined;
}

/**
 * The host's namespaces: PID 1's, or, where they cannot be read (skiff itself confined, as under a
 * sandbox that hides PID 1), skiff's own, which a container shares exactly when it did not get a
 * namespace of its own.
 */
function hostNamespaces(): { reference: string; inodes: Map<NamespaceType, number | undefined> } {
  const fromInit = new Map(NAMESPACE_TYPES.map((t) => [t, namespaceInode(1, t)] as const));
  if ([...fromInit.values()].some((v) => v !== undefined))
    return { reference: '/proc/1/ns', inodes: fromInit };
  return {
    reference: '/proc/self/ns',
    inodes: new Map(NAMESPACE_TYPES.map((t) => [t, namespaceInode('self', t)] as const)),
  };
}

export interface OtherContainer {
  name: string;
  pid: number;
}

export function collectNamespaces(pid: number, others: readonly OtherContainer[]): NamespaceFacts[] {
  const host = hostNamespaces();
  const otherInodes = others.map((o) => ({
    name: o.name,
    inodes: new Map(NAMESPACE_TYPES.map((t) => [t, namespaceInode(o.pid, t)] as const)),
  }));
  return NAMESPACE_TYPES.map((type) => {
    const inode = namespaceInode(pid, type);
    return {
      type,
      inode: inode ?? null,
      sharedWithHost: inode !== undefined && host.inodes.get(type) === inode,
      sharedWith: otherInodes
        .filter((o) => inode !== undefined && o.inodes.get(type) === inode)
        .map((o) => o.name)
        .sort(),
      hostReference: host.reference,
    };
  });
}
