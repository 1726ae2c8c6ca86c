export { type BlobInfo, type ByteSource, ContentStore, type IngestOptions } from './store.ts';
