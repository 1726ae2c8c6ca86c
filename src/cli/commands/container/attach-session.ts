/**
 * The CLI end of an attach: the container's output to this terminal, this terminal's input (with
 * -i) to the container, the window size (with -t), and signals forwarded (docker's --sig-proxy)
 * when there is no terminal to carry Ctrl-C. Resolves with the exit the monitor reports.
 */
import type { AttachClient, Engine, ExitRecord } from '../../../engine/index.ts';

export interface SessionOptions {
  tty: boolean;
  /** Relay this process's stdin (docker -i). */
  stdin: boolean;
  /** Forward SIGINT/SIGTERM/… to the container (docker --sig-proxy, default on without a tty). */
  sigProxy: boolean;
}

const PROXIED: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

export async function runSession(
  client: AttachClient,
  engine: Engine,
  containerId: string,
  options: SessionOptions,
): Promise<ExitRecord> {
  const undo: Array<() => void> = [];
  client.stdout.pipe(process.stdout, { end: false });
  client.stderr.pipe(options.tty ? process.stdout : process.stderr, { end: false });
  if (options.stdin) undo.push(relayStdin(client, options.tty));
  if (options.tty) undo.push(followWindowSize(client));
  if (options.sigProxy && !options.tty) undo.push(proxySignals(engine, containerId));
  try {
    const exit = await client.exit;
    await drain(process.stdout);
    await drain(process.stderr);
    return exit;
  } finally {
    for (const fn of undo.reverse()) fn();
  }
}

function relayStdin(client: AttachClient, tty: boolean): () => void {
  const stdin = process.stdin;
  const raw = tty && stdin.isTTY;
  if (raw) stdin.setRawMode(true);
  const onData = (chunk: Buffer) => client.writeStdin(chunk);
  const onEnd = () => client.closeStdin();
  stdin.on('data', onData);
  stdin.once('end', onEnd);
  stdin.resume();
  return () => {
    stdin.off('data', onData);
    stdin.off('end', onEnd);
    if (raw) stdin.setRawMode(false);
    stdin.pause();
    stdin.unref?.();
  };
}

function followWindowSize(client: AttachClient): () => void {
  const out = process.stdout;
  if (!out.isTTY) return () => undefined;
  const send = () => client.resize(out.rows, out.columns);
  send();
  out.on('resize', send);
  return () => out.off('resize', send);
}

function proxySignals(engine: Engine, id: string): () => void {
  const handlers = PROXIED.map((signal) => {
    const handler = () => {
      engine.kill(id, signal).catch(() => undefined);
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}

function drain(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.writableLength === 0) resolve();
    else stream.once('drain', () => resolve());
  });
}
