/**
 * The terminal a command talks to: its standard streams, whether they are terminals, its signals,
 * environment and working directory. A command run by `skiff` itself gets this process's; one run
 * by the resident service (`skiff system service`) gets its client's, relayed over a socket — so
 * commands reach these only through `currentIo()`, never through `process` directly.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { writeSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';

/** The signals a command may handle itself (the rest keep their default action). */
export type CommandSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP' | 'SIGQUIT' | 'SIGUSR1' | 'SIGUSR2';

export interface Io {
  /** Writes text to standard output (1) or error (2), in order with what was written before. */
  write(fd: 1 | 2, text: string): void;
  /** Standard input; created on first use (reading it is a commitment: a client relays it then). */
  stdin(): Readable;
  stdout(): Writable;
  stderr(): Writable;
  isTTY(fd: 0 | 1 | 2): boolean;
  /** The terminal's size when standard output is one. */
  windowSize(): { rows: number; columns: number } | undefined;
  /** Calls fn on every change of the terminal's size; returns the undo. */
  onResize(fn: () => void): () => void;
  /** Puts the input terminal in raw mode (or back). */
  setRawMode(raw: boolean): void;
  /** Handles `signal` instead of its default action (ending the command) until the undo is called. */
  onSignal(signal: CommandSignal, fn: () => void): () => void;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

/**
 * Writes straight to the file descriptor: touching process.stdout would load Node's stream modules,
 * a third of `skiff --version`'s start-up. EAGAIN (a non-blocking pipe that is full) is retried.
 */
function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text);
  let off = 0;
  while (off < bytes.length) {
    try {
      off += writeSync(fd, bytes, off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      if ((err as NodeJS.ErrnoException).code === 'EPIPE') return;
      throw err;
    }
  }
}

/** node:tty, loaded when first asked: it pulls in net and streams, a third of `skiff --version`. */
const isatty = (fd: number): boolean => process.getBuiltinModule('node:tty').isatty(fd);

/** This process's own terminal. */
function processIo(): Io {
  return {
    write: writeAll,
    stdin: () => process.stdin,
    stdout: () => process.stdout,
    stderr: () => process.stderr,
    isTTY: (fd) => isatty(fd),
    windowSize: () =>
      isatty(1) ? { rows: process.stdout.rows, columns: process.stdout.columns } : undefined,
    onResize(fn) {
      if (!isatty(1)) return () => undefined;
      process.stdout.on('resize', fn);
      return () => process.stdout.off('resize', fn);
    },
    setRawMode(raw) {
      if (process.stdin.isTTY) process.stdin.setRawMode(raw);
    },
    onSignal(signal, fn) {
      process.on(signal, fn);
      return () => process.off(signal, fn);
    },
    env: process.env,
    cwd: process.cwd(),
  };
}

const storage = new AsyncLocalStorage<Io>();
const own = processIo();

/** The terminal of the command running in this async context. */
export function currentIo(): Io {
  return storage.getStore() ?? own;
}

/** Runs fn (and everything it starts) talking to `io`. */
export function withIo<T>(io: Io, fn: () => T): T {
  return storage.run(io, fn);
}
