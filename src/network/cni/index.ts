export * from './attachment.ts';
export * from './config.ts';
export { type CniCommand, CniError, findPlugin } from './plugin.ts';
export * from './result.ts';
export * from './version.ts';
