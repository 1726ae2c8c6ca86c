// The engine's side of the shim's monitor role (native/shim/monitor.c): attach, frames, exit record.
export type { MonitorOptions } from '../../runtime/index.ts';
export { AttachClient, type AttachClientEvents } from './attach.ts';
export { type ExitRecord, parseExitRecord, readExitFile } from './exit-file.ts';
export { encodeFrame, encodeResize, type Frame, FrameDecoder, FrameType } from './frames.ts';
