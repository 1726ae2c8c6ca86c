// PLACEHOLDER (reverted before the VOL branch merges).
import type { EnginePaths } from '../paths.ts';
export class VolumeStore {
  readonly paths: EnginePaths;
  constructor(paths: EnginePaths) {
    this.paths = paths;
  }
}
