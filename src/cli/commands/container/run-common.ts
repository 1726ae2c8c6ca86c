/** What `run`, `create`, `start -a` and `attach` share: errors as docker prints them, the attach. */
import { SkiffError } from '../../../common/index.ts';
import { AttachClient, type Container, type Engine, hasRestartPolicy } from '../../../engine/index.ts';
import { EXIT_USAGE, StatusError } from '../../command.ts';
import { currentIo } from '../../io.ts';
import { runSession } from './attach-session.ts';

/** docker run's own failures: `docker: Error response from daemon: …` and exit 125 (or 126/127). */
export function runError(commandPath: string, err: unknown, status = EXIT_USAGE): StatusError {
  if (err instanceof StatusError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (!(err instanceof SkiffError)) throw err;
  return new StatusError(
    `${commandPath.split(' ')[0]}: Error response from daemon: ${message}\nRun '${commandPath} --help' for more information`,
    status,
  );
}

export interface AttachedRun {
  tty: boolean;
  stdin: boolean;
  sigProxy: boolean;
}

/**
 * Starts the container with this process attached from its first byte, relays until it exits,
 * then records the exit (and removes an --rm container) itself — the monitor skips its cleanup
 * command for a client that claimed it, so `run` returns as soon as all is done.
 */
export async function startAttached(
  engine: Engine,
  container: Container,
  options: AttachedRun,
  commandPath: string,
): Promise<number> {
  let client: AttachClient | undefined;
  // With a restart policy the monitor's cleanup must run (it restarts the container): not claimed.
  const claim = !hasRestartPolicy(container);
  try {
    await engine.start(container.id, {
      beforeStart: async (dir, c) => {
        client = await AttachClient.connect(dir);
        if (claim) client.claimCleanup();
        // The terminal's size before the program runs (docker's ConsoleSize): a resize after start
        // races a program that asks at once (`stty -a` would find 0x0).
        const size = options.tty ? currentIo().windowSize() : undefined;
        if (size) client.resize(size.rows, size.columns);
        engine.emitContainer(c, 'attach');
      },
    });
  } catch (err) {
    client?.close();
    const failed = engine.records.get(container.id);
    if (container.hostConfig.AutoRemove) await engine.remove(container.id, { force: true, volumes: true });
    throw runError(commandPath, err, failed?.exitCode ?? EXIT_USAGE);
  }
  const attached = client!;
  try {
    const exit = await runSession(attached, engine, container.id, options);
    if (!claim) return exit.exitCode;
    await engine.cleanup(container.id);
    attached.cleanupDone();
    return exit.exitCode;
  } finally {
    attached.close();
  }
}
