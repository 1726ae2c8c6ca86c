// The image layer's public face (DESIGN.md): other folders import only this module.
export * from './archive/index.ts';
export * from './content/index.ts';
export * from './digest.ts';
export * from './layer/index.ts';
export * from './layers/index.ts';
export * from './reference.ts';
export * from './registry/index.ts';
export * from './rootfs.ts';
export * from './snapshot/index.ts';
export * from './store/index.ts';
