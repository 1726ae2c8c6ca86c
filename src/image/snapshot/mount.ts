import { execFile } from 'node:child_process';
import { invalidArgument, nativeTool, runtimeFailure, syscallError } from '../../common/index.ts';
import type { MountSpec } from './overlay.ts';

/** MS_* flags of <sys/mount.h> that a spec's options may name. */
const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  BIND: 0x1000,
  REC: 0x4000,
} as const;

const FLAG_OPTIONS: ReadonlyMap<string, number> = new Map([
  ['ro', MS.RDONLY],
  ['rw', 0],
  ['nosuid', MS.NOSUID],
  ['nodev', MS.NODEV],
  ['noexec', MS.NOEXEC],
  ['bind', MS.BIND],
  ['rbind', MS.BIND | MS.REC],
]);

/** What mount(2) takes for a spec: its options split into MS_* flags and the file system's data. */
export function mountArguments(spec: MountSpec): { flags: number; data: string } {
  let flags = 0;
  const data: string[] = [];
  for (const option of spec.options) {
    const flag = FLAG_OPTIONS.get(option);
    if (flag !== undefined) flags |= flag;
    else if (spec.type === 'bind') throw invalidArgument(`bind mount option \`${option}\` is not supported`);
    else data.push(option);
  }
  if (spec.type === 'bind' && !(flags & MS.BIND)) flags |= MS.BIND;
  return { flags, data: data.join(',') };
}

/** Mounts a snapshot's specs on `target` (an existing directory), in order, with skiff-mount. */
export async function mountSnapshot(mounts: readonly MountSpec[], target: string): Promise<void> {
  for (const spec of mounts) {
    const { flags, data } = mountArguments(spec);
    await runTool(['mount', target, spec.type, spec.source, String(flags), data, spec.cwd ?? '']);
  }
}

/** Unmounts what mountSnapshot mounted on `target` (one mount per spec, the last first). */
export async function unmountSnapshot(target: string, count = 1): Promise<void> {
  for (let i = 0; i < count; i++) await runTool(['umount', target]);
}

async function runTool(args: string[]): Promise<void> {
  const tool = mountToolPath();
  await new Promise<void>((resolve, reject) => {
    execFile(tool, args, { encoding: 'utf8' }, (err, _stdout, stderr) => {
      if (!err) resolve();
      else if (typeof err.code === 'number')
        reject(runtimeFailure(stderr.trim() || `skiff-mount exited with ${err.code}`, err));
      else reject(syscallError('spawn', tool, err));
    });
  });
}

/** The tool: $SKIFF_MOUNT, or native/build/skiff-mount of this checkout. */
function mountToolPath(): string {
  return nativeTool('skiff-mount', 'SKIFF_MOUNT');
}
