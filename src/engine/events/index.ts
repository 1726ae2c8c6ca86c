export * from './attributes.ts';
export * from './event-log.ts';
export * from './filter.ts';
