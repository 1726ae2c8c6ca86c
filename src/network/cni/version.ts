/**
 * Which CNI version a network is executed with (cni-spec.md, "Version considerations"): the highest
 * of the list's `cniVersion`/`cniVersions` that skiff understands — results from 0.3.0 on (interfaces,
 * ips, routes, dns); the 0.1/0.2 result shape is not read. When the list offers several, the plugins'
 * VERSION answers narrow the choice to one every plugin of the list supports.
 */
import { invalidArgument } from '../../common/index.ts';
import type { NetworkConfigList } from './config.ts';

export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

/** The versions the list offers that skiff can execute, highest first. */
export function candidateVersions(list: NetworkConfigList): string[] {
  const offered = new Set([list.cniVersion, ...(list.cniVersions ?? [])]);
  const usable = [...offered].filter((v) => (SUPPORTED_VERSIONS as readonly string[]).includes(v));
  if (usable.length === 0)
    throw invalidArgument(
      `network ${list.name}: CNI version ${[...offered].join(', ')} is not supported (skiff executes ${SUPPORTED_VERSIONS.join(', ')}); change \`cniVersion\` in ${list.source ?? 'its configuration'}`,
    );
  return usable.sort(compareVersions).reverse();
}

/** The highest candidate every plugin supports (pluginVersions: each plugin's supportedVersions). */
export function selectVersion(
  list: NetworkConfigList,
  pluginVersions: readonly (readonly string[])[],
): string {
  const candidates = candidateVersions(list);
  const chosen = candidates.find((v) => pluginVersions.every((supported) => supported.includes(v)));
  if (!chosen)
    throw invalidArgument(
      `network ${list.name}: its plugins support none of the versions it offers (${candidates.join(', ')})`,
    );
  return chosen;
}
