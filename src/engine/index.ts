// The engine's public face (DESIGN.md): other folders import only this module.

export * from './containers/index.ts';
// docker cp's trees, packing and extraction (the Engine's copyFromContainer / copyToContainer use them).
export * from './cp/index.ts';
export * from './db.ts';
export * from './diagnose/index.ts';
export type * from './docker-types.ts';
export * from './events/index.ts';
export * from './files.ts';
export * from './health/index.ts';
export * from './logs/index.ts';
export * from './monitor/index.ts';
export * from './mount-types.ts';
export * from './mounts.ts';
export * from './networks/index.ts';
export * from './paths.ts';
export * from './spec/index.ts';
export * from './stats/index.ts';
export * from './system/index.ts';
export * from './volumes/index.ts';
