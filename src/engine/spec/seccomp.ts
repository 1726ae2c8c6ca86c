/**
 * Docker's seccomp profile format (moby/profiles/seccomp: archMap, includes/excludes by arch,
 * capability and kernel version) turned into an OCI `linux.seccomp`, as moby's setupSeccomp does.
 * The one converter of the project: the engine's default and `--security-opt seccomp=…` profiles,
 * and the runtime tests that run Docker's profile, all use it.
 */
import { release } from 'node:os';
import { invalidArgument } from '../../common/index.ts';
import type { Seccomp } from '../../oci/index.ts';
import { readVendoredJson } from './vendored.ts';

interface Filter {
  readonly arches?: readonly string[];
  readonly caps?: readonly string[];
  readonly minKernel?: string;
}

interface DockerSyscall {
  readonly name?: string;
  readonly names?: readonly string[];
  readonly action: string;
  readonly errnoRet?: number;
  readonly args?: NonNullable<Seccomp['syscalls']>[number]['args'];
  readonly includes?: Filter;
  readonly excludes?: Filter;
}

/** A profile in Docker's JSON format (a plain OCI `linux.seccomp` object is one too). */
export interface DockerSeccompProfile {
  readonly defaultAction: string;
  readonly defaultErrnoRet?: number;
  readonly architectures?: readonly string[];
  readonly archMap?: readonly { architecture: string; subArchitectures?: readonly string[] }[];
  readonly flags?: readonly string[];
  readonly listenerPath?: string;
  readonly listenerMetadata?: string;
  readonly syscalls?: readonly DockerSyscall[];
}

export interface SeccompHost {
  /** The container's bounding capabilities (includes/excludes by capability test them). */
  readonly bounding: readonly string[];
  /** Go's GOARCH name (amd64, arm64); default this machine's. */
  readonly goArch?: string;
  /** Kernel release as uname -r; default this machine's. */
  readonly kernel?: string;
}

const GO_ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  ia32: '386',
  arm: 'arm',
  s390x: 's390x',
};
const NATIVE_ARCH: Record<string, string> = {
  amd64: 'SCMP_ARCH_X86_64',
  arm64: 'SCMP_ARCH_AARCH64',
  '386': 'SCMP_ARCH_X86',
  arm: 'SCMP_ARCH_ARM',
  s390x: 'SCMP_ARCH_S390X',
};

/** `major.minor` of a kernel release compared with a profile's minKernel ("4.8"). */
function kernelAtLeast(kernel: string, min: string): boolean {
  const [major = 0, minor = 0] = kernel.split(/[.-]/).map((n) => Number.parseInt(n, 10));
  const [wantMajor = 0, wantMinor = 0] = min.split('.').map((n) => Number.parseInt(n, 10));
  return major > wantMajor || (major === wantMajor && minor >= wantMinor);
}

export function dockerSeccompToOci(profile: DockerSeccompProfile, host: SeccompHost): Seccomp {
  const goArch = host.goArch ?? GO_ARCH[process.arch] ?? process.arch;
  const kernel = host.kernel ?? release();
  if (profile.architectures?.length && profile.archMap?.length)
    throw invalidArgument("seccomp profile: both 'architectures' and 'archMap' are specified");
  const architectures = [...(profile.architectures ?? [])];
  for (const entry of profile.archMap ?? [])
    if (entry.architecture === NATIVE_ARCH[goArch])
      architectures.push(entry.architecture, ...(entry.subArchitectures ?? []));
  const has = (cap: string) => host.bounding.includes(cap);
  const syscalls: NonNullable<Seccomp['syscalls']> = [];
  for (const call of profile.syscalls ?? []) {
    if (call.name && call.names?.length)
      throw invalidArgument(
        "seccomp profile: 'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'",
      );
    const exc = call.excludes ?? {};
    const inc = call.includes ?? {};
    if (exc.arches?.includes(goArch)) continue;
    if (exc.caps?.some(has)) continue;
    if (exc.minKernel && kernelAtLeast(kernel, exc.minKernel)) continue;
    if (inc.arches?.length && !inc.arches.includes(goArch)) continue;
    if (inc.caps?.length && !inc.caps.every(has)) continue;
    if (inc.minKernel && !kernelAtLeast(kernel, inc.minKernel)) continue;
    syscalls.push({
      names: call.name ? [call.name] : [...(call.names ?? [])],
      action: call.action,
      ...(call.errnoRet !== undefined && { errnoRet: call.errnoRet }),
      ...(call.args && { args: call.args.map((a) => ({ ...a })) }),
    });
  }
  return {
    defaultAction: profile.defaultAction,
    ...(profile.defaultErrnoRet !== undefined && { defaultErrnoRet: profile.defaultErrnoRet }),
    ...(architectures.length > 0 && { architectures }),
    ...(profile.flags?.length && { flags: [...profile.flags] }),
    ...(profile.listenerPath && { listenerPath: profile.listenerPath }),
    ...(profile.listenerMetadata && { listenerMetadata: profile.listenerMetadata }),
    syscalls,
  };
}

/** Docker's default profile (specs/seccomp-default.json) for a container with these capabilities. */
export function defaultSeccomp(host: SeccompHost): Seccomp {
  return dockerSeccompToOci(readVendoredJson('seccomp-default.json') as DockerSeccompProfile, host);
}

/** A profile given as JSON text (`--security-opt seccomp=<file content>`), with errors naming it. */
export function parseSeccompProfile(text: string): DockerSeccompProfile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalidArgument(`decoding seccomp profile failed: ${(err as Error).message}`, err);
  }
  if (
    !value ||
    typeof value !== 'object' ||
    typeof (value as { defaultAction?: unknown }).defaultAction !== 'string'
  )
    throw invalidArgument('decoding seccomp profile failed: defaultAction must be a string');
  return value as DockerSeccompProfile;
}
