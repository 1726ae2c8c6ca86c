/**
 * Platform selection in an image index / manifest list: which entry this host runs. Node's
 * process.arch names are mapped to the OCI/Go ones (`x64` → `amd64`); as containerd's matcher does,
 * arm64 without a variant means v8, so `arm64` and `arm64/v8` entries match each other.
 */
import { notFound } from '../../common/index.ts';
import type { Descriptor, Platform } from './manifest.ts';

const ARCHITECTURES: Record<string, Platform> = {
  x64: { os: 'linux', architecture: 'amd64' },
  arm64: { os: 'linux', architecture: 'arm64', variant: 'v8' },
  arm: { os: 'linux', architecture: 'arm', variant: 'v7' },
  ia32: { os: 'linux', architecture: '386' },
  ppc64: { os: 'linux', architecture: 'ppc64le' },
  s390x: { os: 'linux', architecture: 's390x' },
  riscv64: { os: 'linux', architecture: 'riscv64' },
  loong64: { os: 'linux', architecture: 'loong64' },
  mips64el: { os: 'linux', architecture: 'mips64le' },
};

/** The platform of this host in OCI terms (images run natively only; no emulation). */
export function hostPlatform(arch: string = process.arch): Platform {
  return ARCHITECTURES[arch] ?? { os: 'linux', architecture: arch };
}

function normalizedVariant(p: Platform): string | undefined {
  if (p.architecture === 'arm64' && (p.variant === undefined || p.variant === '')) return 'v8';
  if (p.architecture === 'arm' && (p.variant === undefined || p.variant === '')) return 'v7';
  return p.variant || undefined;
}

export function platformMatches(want: Platform, have: Platform): boolean {
  return (
    want.os === have.os &&
    want.architecture === have.architecture &&
    normalizedVariant(want) === normalizedVariant(have)
  );
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** The first index entry for the platform; NotFound listing what the index offers when none fits. */
export function selectManifest(entries: readonly Descriptor[], want: Platform, what: string): Descriptor {
  const found = entries.find((entry) => entry.platform && platformMatches(want, entry.platform));
  if (found) return found;
  const offered = entries.map((e) => (e.platform ? formatPlatform(e.platform) : 'unknown')).join(', ');
  throw notFound(
    `${what}: no manifest for platform ${formatPlatform(want)} (the index offers: ${offered || 'nothing'})`,
  );
}
