/**
 * Cgroups for containers, driven through cgroupfs as runc's fs (v1) and fs2 (v2) drivers do, on v1,
 * v2 and hybrid hosts alike: `loadCgroupLayout` finds the hierarchies, `createCgroup` makes the
 * container's cgroup in each and applies `linux.resources` (each controller in the hierarchy that
 * holds it), and the process joins by writing its pid into `procsFiles`. Store `cgroupRecord(handle)`
 * and rebuild with `loadCgroup`: a relative cgroupsPath depends on the caller's own cgroups.
 */
export type { CgroupDriver } from './driver.ts';
export type { CgroupWrite, DirFacts, WritePlan } from './fs.ts';
export {
  type CgroupLayout,
  describeLayout,
  detectLayout,
  type Hierarchy,
  hierarchyFor,
  type LayoutKind,
  type LayoutSources,
  loadCgroupLayout,
  parseCgroupLayout,
  restrictLayout,
  unifiedHierarchy,
} from './layout.ts';
export {
  type Cgroup,
  type CgroupDir,
  type CgroupMountView,
  type CgroupRecord,
  type CreateCgroupOptions,
  cgroupPids,
  cgroupRecord,
  cgroupViews,
  createCgroup,
  destroyCgroup,
  freezeCgroup,
  killCgroup,
  loadCgroup,
  type ResourceRoutes,
  routeResources,
  thawCgroup,
  type UpdateCgroupOptions,
  updateCgroup,
  type WarningSink,
} from './manager.ts';
export { type CgroupsPath, cgroupDir, cgroupPathIn, parseCgroupsPath } from './path.ts';
export { planV1Writes, v1Driver } from './v1.ts';
export {
  blkioWeightToIoWeight,
  ioMaxLines,
  planV2Writes,
  sharesToWeight,
  swapToSwapMax,
  v2ControllersFor,
  v2Driver,
} from './v2.ts';
