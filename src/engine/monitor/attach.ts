/**
 * A client of a monitor's attach socket (DIR/attach): the container's output as it comes, its stdin,
 * terminal size, and its exit. Several clients may be attached at once; each gets all output from its
 * connection on (HELLO marks that point: start the container after connect() resolved to miss nothing).
 */
import { EventEmitter } from 'node:events';
import { closeSync, constants, openSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { runtimeFailure, syscallError } from '../../common/index.ts';
import { type ExitRecord, parseExitRecord } from './exit-file.ts';
import { encodeFrame, encodeResize, FrameDecoder, FrameType } from './frames.ts';

export interface AttachClientEvents {
  stdout: [Buffer];
  stderr: [Buffer];
  exit: [ExitRecord];
  close: [];
}

export class AttachClient extends EventEmitter<AttachClientEvents> {
  /** The container's stdout (with a terminal: everything); ends when the monitor ends its side. */
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  /**
   * The exit record, from the EXIT frame. Rejects when the connection ends without one (the monitor
   * died, or dropped this client for not reading); readExitFile(dir) may still know it.
   */
  readonly exit: Promise<ExitRecord>;
  private readonly decoder = new FrameDecoder();
  private settleExit!: { resolve: (r: ExitRecord) => void; reject: (e: Error) => void };
  private exited = false;
  private ended = false;
  private claimed = false;
  private readonly socket: net.Socket;
  private readonly where: string;

  private constructor(socket: net.Socket, where: string) {
    super();
    this.socket = socket;
    this.where = where;
    this.exit = new Promise<ExitRecord>((resolve, reject) => {
      this.settleExit = { resolve, reject };
    });
    // Nobody may be waiting on exit (a client that only streams): no unhandled rejection for that.
    this.exit.catch(() => {});
  }

  /** Connects to DIR/attach; resolves once the monitor said HELLO. */
  static connect(dir: string): Promise<AttachClient> {
    const where = path.join(dir, 'attach');
    let target: ReturnType<typeof socketAddress>;
    try {
      target = socketAddress(dir, where);
    } catch (err) {
      return Promise.reject(syscallError('connect', where, err));
    }
    const { address, release } = target;
    return new Promise((resolve, reject) => {
      // Half-open: the monitor ends its side after EXIT, and a client that claimed the cleanup must
      // keep its own side open until cleanupDone() (its EOF would mean "run the exit command").
      const socket = net.createConnection({ path: address, allowHalfOpen: true });
      socket.once('connect', release);
      const client = new AttachClient(socket, where);
      let hello = false;
      socket.once('error', (err) => {
        release();
        if (!hello) reject(syscallError('connect', where, err));
      });
      socket.on('data', (chunk: Buffer) => {
        let frames: ReturnType<FrameDecoder['push']>;
        try {
          frames = client.decoder.push(chunk);
        } catch (err) {
          socket.destroy(err as Error);
          return;
        }
        for (const frame of frames) {
          if (frame.type === FrameType.hello && !hello) {
            hello = true;
            resolve(client);
          } else client.onFrame(frame.type, frame.payload);
        }
      });
      socket.once('end', () => client.onEnd());
      socket.once('close', () => {
        if (!hello)
          reject(runtimeFailure(`connect ${where}: the monitor closed the connection before HELLO`));
        client.onEnd();
        client.emit('close');
      });
      socket.on('error', () => {
        // Reported through `exit` (rejected) and `close`; a reset after EXIT is the normal end.
      });
    });
  }

  private onFrame(type: number, payload: Buffer): void {
    if (type === FrameType.stdout) {
      this.stdout.write(payload);
      this.emit('stdout', payload);
    } else if (type === FrameType.stderr) {
      this.stderr.write(payload);
      this.emit('stderr', payload);
    } else if (type === FrameType.exit) {
      try {
        const record = parseExitRecord(payload.toString('utf8'), `${this.where} EXIT frame`);
        this.exited = true;
        this.settleExit.resolve(record);
        this.emit('exit', record);
      } catch (err) {
        this.settleExit.reject(err as Error);
      }
    }
  }

  /** The monitor's side ended (after EXIT, or when it dropped this client). */
  private onEnd(): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.exited) {
      this.settleExit.reject(
        runtimeFailure(`${this.where}: the connection ended before the container's exit`),
      );
    }
    this.stdout.end();
    this.stderr.end();
    // A claimant keeps its side open: its EOF would tell the monitor to run the exit command.
    if (!this.claimed) this.socket.end();
  }

  private send(frame: Buffer): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(frame);
  }

  /** Data for the container's stdin (the monitor needs --stdin, or a terminal). */
  writeStdin(data: Buffer | string): void {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    // A zero-length STDIN frame means "close": data goes in non-empty frames only.
    if (bytes.length > 0) this.send(encodeFrame(FrameType.stdin, bytes));
  }

  /** Closes the container's stdin (with a terminal: sends the EOF character, ^D). */
  closeStdin(): void {
    this.send(encodeFrame(FrameType.stdin));
  }

  resize(rows: number, cols: number): void {
    for (const [name, value] of [
      ['rows', rows],
      ['cols', cols],
    ] as const) {
      if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
        throw runtimeFailure(`attach resize: ${name} must be an integer 0..65535, not ${value}`);
      }
    }
    this.send(encodeResize(rows, cols));
  }

  /** This client will clean up after the exit itself: the monitor waits for cleanupDone() or EOF. */
  claimCleanup(): void {
    this.claimed = true;
    this.send(encodeFrame(FrameType.claimCleanup));
  }

  /** The claimed cleanup is done: the monitor exits without running its exit command. */
  cleanupDone(): void {
    this.send(encodeFrame(FrameType.cleanupDone));
    this.claimed = false;
    if (this.ended) this.socket.end();
  }

  /** Ends this client's connection (the container runs on). */
  close(): void {
    this.socket.end();
  }

  /** Resolves when the connection is fully closed. */
  closed(): Promise<void> {
    if (this.socket.closed) return Promise.resolve();
    return new Promise((resolve) => this.socket.once('close', () => resolve()));
  }
}

/** A unix socket path holds 107 bytes: a longer one is reached through an fd of its directory. */
const SUN_PATH_MAX = 107;

function socketAddress(dir: string, where: string): { address: string; release: () => void } {
  if (Buffer.byteLength(where) <= SUN_PATH_MAX) return { address: where, release: () => {} };
  let fd: number | undefined = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  return {
    address: `/proc/self/fd/${fd}/attach`,
    release: () => {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}
