// The engine's public face (DESIGN.md): other folders import only this module.
export * from './db.ts';
export * from './logs/index.ts';
export * from './mount-types.ts';
export * from './mounts.ts';
export * from './paths.ts';
export * from './volumes/index.ts';
