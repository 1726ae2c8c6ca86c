// `docker cp` (DESIGN.md): a container's tree walked without ever leaving it, tar in and out.

export { type TreeSource, withContainerSide } from './container-tree.ts';
export {
  assertsDirectory,
  type ContainerSide,
  type CopyOptions,
  copyIn,
  copyOut,
  copyTarget,
  sourceBase,
} from './copy.ts';
export { cpEntryComponents, extractInto, type Ownership, symlinkEscapes } from './extract.ts';
export { packTree } from './pack.ts';
export { at, openHostDir, type Tree, type TreeMount, Walk, walkToDir } from './rooted.ts';
