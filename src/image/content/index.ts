export type { ResumableIngest, ResumableOptions } from './resumable.ts';
export { type BlobInfo, type ByteSource, ContentStore, type IngestOptions } from './store.ts';
