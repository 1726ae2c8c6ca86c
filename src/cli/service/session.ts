/**
 * One client's command run by the service: an Io whose streams, terminal and signals are the
 * client's, relayed over its connection (protocol.ts). Standard input is asked for only when the
 * command reads it, as docker's CLI reads it only with -i.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { constants } from 'node:os';
import { PassThrough, type Readable, Writable } from 'node:stream';
import { encodeFrame, type FrameDecoder } from '../../engine/index.ts';
import type { CommandSignal, Io } from '../io.ts';
import { FromClient, type Hello, ToClient } from './protocol.ts';

const SIGNAL_NAMES = new Map(
  Object.entries(constants.signals).map(([name, number]) => [number, name as NodeJS.Signals]),
);

export class Session implements Io {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** Set when the client left or was killed by a signal nobody handled: the command is abandoned. */
  readonly ended = new AbortController();
  private readonly events = new EventEmitter();
  private input: PassThrough | undefined;
  private streams: { out?: Writable; err?: Writable } = {};
  private size: { rows: number; columns: number };

  private readonly socket: Socket;
  readonly hello: Hello;

  constructor(socket: Socket, hello: Hello, decoder: FrameDecoder) {
    this.socket = socket;
    this.hello = hello;
    this.env = hello.env;
    this.cwd = hello.cwd;
    this.size = { rows: hello.rows, columns: hello.columns };
    socket.on('data', (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) this.onFrame(frame.type, frame.payload);
    });
    socket.on('close', () => this.abandon());
    socket.on('error', () => this.abandon());
  }

  write(fd: 1 | 2, text: string): void {
    this.send(fd === 1 ? ToClient.stdout : ToClient.stderr, text);
  }

  stdin(): Readable {
    if (!this.input) {
      this.input = new PassThrough();
      this.send(ToClient.readStdin);
    }
    return this.input;
  }

  stdout(): Writable {
    this.streams.out ??= this.relay(ToClient.stdout);
    return this.streams.out;
  }

  stderr(): Writable {
    this.streams.err ??= this.relay(ToClient.stderr);
    return this.streams.err;
  }

  isTTY(fd: 0 | 1 | 2): boolean {
    return this.hello.tty[fd];
  }

  windowSize(): { rows: number; columns: number } | undefined {
    return this.hello.tty[1] ? this.size : undefined;
  }

  onResize(fn: () => void): () => void {
    this.events.on('resize', fn);
    return () => this.events.off('resize', fn);
  }

  setRawMode(raw: boolean): void {
    if (this.hello.tty[0]) this.send(ToClient.raw, raw ? '1' : '0');
  }

  onSignal(signal: CommandSignal, fn: () => void): () => void {
    this.events.on(signal, fn);
    return () => this.events.off(signal, fn);
  }

  send(type: number, payload: Buffer | string = ''): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(encodeFrame(type, payload));
  }

  /** The command's end: its status to the client, then the connection closed. */
  finish(status: number): void {
    this.send(ToClient.exit, String(status));
    this.socket.end();
  }

  private relay(type: number): Writable {
    return new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        if (this.socket.destroyed) return done();
        // Back-pressure: a slow terminal on the client's side slows the command down, as a pipe would.
        if (this.socket.write(encodeFrame(type, chunk))) done();
        else this.socket.once('drain', () => done());
      },
    });
  }

  private onFrame(type: number, payload: Buffer): void {
    switch (type) {
      case FromClient.stdin:
        this.input?.write(payload);
        break;
      case FromClient.stdinEnd:
        this.input?.end();
        break;
      case FromClient.resize: {
        const [rows, columns] = payload.toString().split(' ').map(Number);
        this.size = { rows: rows ?? 0, columns: columns ?? 0 };
        this.events.emit('resize');
        break;
      }
      case FromClient.signal:
        this.onClientSignal(SIGNAL_NAMES.get(Number(payload.toString())));
        break;
    }
  }

  /** A signal the command handles goes to it; any other ends the client as it would end a CLI. */
  private onClientSignal(signal: NodeJS.Signals | undefined): void {
    if (!signal) return;
    if (this.events.listenerCount(signal) > 0) {
      this.events.emit(signal);
      return;
    }
    this.finish(128 + (constants.signals[signal] ?? 0));
    this.abandon();
  }

  private abandon(): void {
    if (this.ended.signal.aborted) return;
    this.ended.abort();
    this.input?.end();
    this.socket.destroy();
  }
}
