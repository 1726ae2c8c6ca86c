/**
 * The CLI end of an attach: the container's output to this terminal, this terminal's input (with
 * -i) to the container, the window size (with -t), and signals forwarded (docker's --sig-proxy)
 * when there is no terminal to carry Ctrl-C. Resolves with the exit the monitor reports.
 */
import type { Writable } from 'node:stream';
import type { AttachClient, Engine, ExitRecord } from '../../../engine/index.ts';
import { type CommandSignal, currentIo } from '../../io.ts';

export interface SessionOptions {
  tty: boolean;
  /** Relay this process's stdin (docker -i). */
  stdin: boolean;
  /** Forward SIGINT/SIGTERM/… to the container (docker --sig-proxy, default on without a tty). */
  sigProxy: boolean;
}

const PROXIED: readonly CommandSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

export async function runSession(
  client: AttachClient,
  engine: Engine,
  containerId: string,
  options: SessionOptions,
): Promise<ExitRecord> {
  const io = currentIo();
  const undo: Array<() => void> = [];
  const stdout = io.stdout();
  const stderr = options.tty ? stdout : io.stderr();
  client.stdout.pipe(stdout, { end: false });
  client.stderr.pipe(stderr, { end: false });
  if (options.stdin) undo.push(relayStdin(client, options.tty));
  if (options.tty) undo.push(followWindowSize(client));
  if (options.sigProxy && !options.tty) undo.push(proxySignals(engine, containerId));
  try {
    const exit = await client.exit;
    await drain(stdout);
    await drain(stderr);
    return exit;
  } finally {
    for (const fn of undo.reverse()) fn();
  }
}

function relayStdin(client: AttachClient, tty: boolean): () => void {
  const io = currentIo();
  const stdin = io.stdin();
  const raw = tty && io.isTTY(0);
  if (raw) io.setRawMode(true);
  const onData = (chunk: Buffer) => client.writeStdin(chunk);
  const onEnd = () => client.closeStdin();
  stdin.on('data', onData);
  stdin.once('end', onEnd);
  stdin.resume();
  return () => {
    stdin.off('data', onData);
    stdin.off('end', onEnd);
    if (raw) io.setRawMode(false);
    stdin.pause();
    (stdin as { unref?: () => void }).unref?.();
  };
}

function followWindowSize(client: AttachClient): () => void {
  const io = currentIo();
  if (!io.windowSize()) return () => undefined;
  const send = () => {
    const size = io.windowSize();
    if (size) client.resize(size.rows, size.columns);
  };
  send();
  return io.onResize(send);
}

function proxySignals(engine: Engine, id: string): () => void {
  const io = currentIo();
  const undo = PROXIED.map((signal) =>
    io.onSignal(signal, () => {
      engine.kill(id, signal).catch(() => undefined);
    }),
  );
  return () => {
    for (const fn of undo) fn();
  };
}

function drain(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    if (stream.writableLength === 0) resolve();
    else stream.once('drain', () => resolve());
  });
}
