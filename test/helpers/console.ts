import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './rootfs.ts';

export const CONSOLE_RECEIVER = path.join(REPO_ROOT, 'native', 'build', 'console-receiver');

export interface ConsoleReceiver {
  socket: string;
  /** Types into the terminal (the pty master). */
  type(text: string): void;
  /** Everything the container wrote on its terminal, once the container's side is closed. */
  output: Promise<string>;
  /** What the runtime sent as the message payload with the fd. */
  payload: Promise<string>;
  kill(): void;
}

/**
 * A tiny conmon (native/tools/console-receiver.c): Node cannot receive SCM_RIGHTS, so a C helper
 * listens on the console socket, takes the pty master and relays it to our pipes.
 */
export async function startConsoleReceiver(socket: string): Promise<ConsoleReceiver> {
  const child: ChildProcessWithoutNullStreams = spawn(CONSOLE_RECEIVER, [socket]);
  let stderr = '';
  let stdout = '';
  const listening = new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('listening\n')) resolve();
    });
    child.once('exit', () => reject(new Error(`console-receiver exited: ${stderr}`)));
  });
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await listening;
  return {
    socket,
    type: (text) => child.stdin.write(text),
    output: exited.then(() => stdout),
    payload: exited.then(() => /received (.*)\n/.exec(stderr)?.[1] ?? `(nothing received) ${stderr}`),
    kill: () => child.kill('SIGKILL'),
  };
}
