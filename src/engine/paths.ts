/**
 * Every path of the engine, derived from $SKIFF_ROOT and $SKIFF_RUNROOT (DESIGN.md, "On disk"), so
 * that any number of isolated stores can live side by side.
 */
import path from 'node:path';
import { runRoot, skiffRoot } from '../common/index.ts';

export interface EnginePaths {
  readonly root: string;
  readonly runroot: string;
}

export function enginePaths(root = skiffRoot(), runroot = runRoot()): EnginePaths {
  return { root, runroot };
}

/** The container's bundle: config.json, rootfs/, hostname, hosts, resolv.conf, ctr.log. */
export const containerDir = (p: EnginePaths, id: string) => path.join(p.root, 'containers', id);
export const containerRootfs = (p: EnginePaths, id: string) => path.join(containerDir(p, id), 'rootfs');
export const containerLog = (p: EnginePaths, id: string) => path.join(containerDir(p, id), 'ctr.log');
/** The OCI runtime's state root (runc's --root). */
export const runtimeStateRoot = (p: EnginePaths) => path.join(p.runroot, 'runtime');
/** The monitor's directory: attach socket, exit file, monitor.pid. */
export const shimDir = (p: EnginePaths, id: string) => path.join(p.runroot, 'shims', id);
export const volumesDir = (p: EnginePaths) => path.join(p.root, 'volumes');
export const volumeData = (p: EnginePaths, name: string) => path.join(volumesDir(p), name, '_data');
