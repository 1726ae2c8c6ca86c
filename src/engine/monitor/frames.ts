/**
 * The attach socket's frames (engine-contract "The monitor"): an 8-byte header
 * `[type, 0, 0, 0, length (uint32 BE)]` then `length` bytes, both ways. Types 1 and 2 are Docker's
 * multiplexed stdout/stderr; the others are the monitor's own.
 */
import { runtimeFailure } from '../../common/index.ts';

export const FrameType = {
  stdin: 0,
  stdout: 1,
  stderr: 2,
  exit: 0x10,
  resize: 0x11,
  claimCleanup: 0x12,
  cleanupDone: 0x13,
  hello: 0x14,
} as const;

export interface Frame {
  type: number;
  payload: Buffer;
}

export const FRAME_HEADER_BYTES = 8;
/** A frame larger than this from the monitor is a broken stream, not data. */
const MAX_FRAME_BYTES = 64 << 20;

export function encodeFrame(type: number, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  header[0] = type;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

/** The RESIZE payload: rows and columns, uint16 BE each. */
export function encodeResize(rows: number, cols: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt16BE(rows, 0);
  payload.writeUInt16BE(cols, 2);
  return encodeFrame(FrameType.resize, payload);
}

/** Splits a byte stream into frames, whatever the chunking. */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const frames: Frame[] = [];
    while (this.pending.length >= FRAME_HEADER_BYTES) {
      const length = this.pending.readUInt32BE(4);
      if (length > MAX_FRAME_BYTES) throw runtimeFailure(`attach: a frame of ${length} bytes is not a frame`);
      if (this.pending.length < FRAME_HEADER_BYTES + length) break;
      frames.push({
        type: this.pending[0]!,
        payload: this.pending.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length),
      });
      this.pending = this.pending.subarray(FRAME_HEADER_BYTES + length);
    }
    return frames;
  }

  /** Bytes of a frame not yet complete (at the end of the stream: a truncated frame). */
  get buffered(): number {
    return this.pending.length;
  }
}
