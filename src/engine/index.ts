// The engine's public face (DESIGN.md): other folders import only this module.
export * from './db.ts';
export type * from './docker-types.ts';
export * from './files.ts';
export * from './mount-types.ts';
export * from './paths.ts';
export * from './spec/index.ts';
