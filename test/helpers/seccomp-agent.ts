import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { eventually } from './host.ts';
import { PROBE, tempDir } from './rootfs.ts';

export interface SeccompAgent {
  /** The listenerPath to put in the config. */
  socket: string;
  /** Everything the agent printed, once it has exited (it exits after one listener fd). */
  output: Promise<string>;
}

/**
 * The probe's seccomp agent (`/probe seccomp-agent SOCKET ERRNO`): takes the listener fd sent to
 * SOCKET and answers every notified call with ERRNO. Killed and removed after the test.
 */
export async function startSeccompAgent(
  t: { after: (fn: () => void) => void },
  errno: number,
): Promise<SeccompAgent> {
  const { dir, cleanup } = tempDir('skiff-agent-');
  t.after(cleanup);
  const socket = path.join(dir, 'agent.sock');
  const agent = spawn(PROBE, ['seccomp-agent', socket, String(errno)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  agent.stdout.on('data', (chunk) => {
    out += chunk;
  });
  const output = new Promise<string>((resolve) => agent.on('exit', () => resolve(out)));
  t.after(() => agent.kill());
  if (!(await eventually(() => existsSync(socket)))) throw new Error('the seccomp agent does not listen');
  return { socket, output };
}
