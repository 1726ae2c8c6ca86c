export * from './db.ts';
export * from './errors.ts';
export * from './fs.ts';
export * from './in-root.ts';
export * from './logger.ts';
export * from './native-tools.ts';
export * from './paths.ts';
export * from './proc.ts';
