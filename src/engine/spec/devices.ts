/**
 * `--device` and `--privileged` devices as Docker adds them (oci.DevicesFromPath, HostDevices): the
 * host node's type and numbers become a linux.devices entry and a cgroup allow rule.
 */
import { type BigIntStats, lstatSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { invalidArgument, syscallError } from '../../common/index.ts';
import type { Device, DeviceCgroup } from '../../oci/index.ts';
import type { DeviceMapping } from '../docker-types.ts';

const S_IFMT = 0o170000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

/** glibc's major()/minor() of a 64-bit dev_t. */
const majorOf = (rdev: bigint) => Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
const minorOf = (rdev: bigint) => Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));

/** The device node at hostPath as it appears at containerPath; undefined when it is not a device. */
function deviceAt(hostPath: string, containerPath: string): Device | undefined {
  let st: BigIntStats;
  try {
    st = statSync(hostPath, { bigint: true });
  } catch (err) {
    throw syscallError('stat', hostPath, err);
  }
  const fmt = Number(st.mode) & S_IFMT;
  if (fmt !== S_IFCHR && fmt !== S_IFBLK) return undefined;
  return {
    type: fmt === S_IFCHR ? 'c' : 'b',
    path: containerPath,
    major: majorOf(st.rdev),
    minor: minorOf(st.rdev),
    fileMode: Number(st.mode) & 0o7777,
    uid: Number(st.uid),
    gid: Number(st.gid),
  };
}

const allowRule = (d: Device, access: string): DeviceCgroup => ({
  allow: true,
  type: d.type as 'c' | 'b',
  major: d.major!,
  minor: d.minor!,
  access,
});

/** A HostConfig.Devices entry: one node, or every node under a directory (paths mapped under dst). */
export function devicesFromMapping(mapping: DeviceMapping): { devices: Device[]; rules: DeviceCgroup[] } {
  const src = mapping.PathOnHost ?? '';
  const dst = mapping.PathInContainer || src;
  const access = mapping.CgroupPermissions || 'rwm';
  const single = deviceAt(src, dst);
  if (single) return { devices: [single], rules: [allowRule(single, access)] };
  if (statSync(src).isDirectory()) {
    const devices: Device[] = [];
    for (const rel of readdirSync(src, { recursive: true }) as string[]) {
      const full = path.join(src, rel);
      if (lstatSync(full).isSymbolicLink()) continue;
      const d = deviceAt(full, path.join(dst, rel));
      if (d) devices.push(d);
    }
    return { devices, rules: devices.map((d) => allowRule(d, access)) };
  }
  throw invalidArgument(
    `error gathering device information while adding custom device "${src}": not a device node`,
  );
}

/** Directories of /dev that hold no device a privileged container should get (libcontainer's list). */
const SKIPPED_DIRS = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);

/** Every device node of the host's /dev, for a privileged container (libcontainer HostDevices). */
export function hostDevices(dir = '/dev'): Device[] {
  const out: Device[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) out.push(...hostDevices(full));
      continue;
    }
    if (full === '/dev/console' || !(entry.isCharacterDevice() || entry.isBlockDevice())) continue;
    try {
      const d = deviceAt(full, full);
      if (d) out.push(d);
    } catch {
      // A node removed while /dev is walked (udev) is simply not there any more.
    }
  }
  return out;
}
