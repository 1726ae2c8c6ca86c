// The engine's public face (DESIGN.md): other folders import only this module.
export * from './db.ts';
export * from './monitor/index.ts';
export * from './mount-types.ts';
export * from './paths.ts';
