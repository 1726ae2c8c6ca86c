/**
 * The resident service: listens on $SKIFF_RUNROOT/skiff.sock and runs the commands of clients
 * (bin/skiff's native front) in this process, already started and warm — the same command code,
 * talking to the client's terminal (session.ts). It declines what it must not run for a client, and
 * the client then runs that itself: commands outside SERVED, a client whose environment differs
 * from the service's in what skiff reads (roots, registries, credentials), another store.
 */
import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { FrameDecoder, withLeaseHolder } from '../../engine/index.ts';
import { Declined, type Gate, runCli } from '../cli.ts';
import type { Globals } from '../command.ts';
import { withIo } from '../io.ts';
import { FromClient, parseHello, ToClient } from './protocol.ts';
import { Session } from './session.ts';

/** noun → the verbs a client may have run here (with the flags that keep them finite). */
const SERVED: Readonly<Record<string, ReadonlySet<string>>> = {
  container: new Set([
    'run',
    'create',
    'start',
    'stop',
    'kill',
    'restart',
    'rm',
    'ls',
    'inspect',
    'inspect-any',
    'port',
    'rename',
    'pause',
    'unpause',
    'cleanup',
    'logs',
  ]),
  image: new Set(['ls', 'inspect', 'tag', 'rm', 'history', 'pull', 'push']),
  network: new Set(['ls', 'inspect', 'create', 'rm', 'connect', 'disconnect']),
  volume: new Set(['ls', 'inspect', 'create', 'rm']),
};

/** Environment skiff reads below the command line: a client must agree with the service on all. */
const SHARED_ENV = /^(SKIFF_|DOCKER_)|^(HOME|PATH|XDG_RUNTIME_DIR|REGISTRY_AUTH_FILE)$/;

/** Whether something accepts connections on the socket file. */
function answers(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(file, () => {
      probe.destroy();
      resolve(true);
    });
    probe.on('error', () => resolve(false));
  });
}

export function socketPath(runroot: string): string {
  return path.join(runroot, 'skiff.sock');
}

function sameEnv(client: NodeJS.ProcessEnv): boolean {
  const keys = new Set(
    [...Object.keys(client), ...Object.keys(process.env)].filter((k) => SHARED_ENV.test(k)),
  );
  for (const key of keys) if ((client[key] ?? '') !== (process.env[key] ?? '')) return false;
  return true;
}

function gateFor(own: Globals): Gate {
  return ({ noun, verb, flags, globals }) =>
    SERVED[noun]?.has(verb) === true &&
    globals.root === own.root &&
    globals.runroot === own.runroot &&
    // Following a log never ends by itself: a CLI's own process ends it at Ctrl-C.
    !(verb === 'logs' && flags.follow === true);
}

export interface ServiceOptions {
  globals: Globals;
  /** Leaves after this many idle seconds (0: never). */
  idleSeconds: number;
  log: (line: string) => void;
}

export class Service {
  private readonly server: Server;
  private sessions = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private serial = 0;
  readonly closed: Promise<void>;

  private readonly options: ServiceOptions;

  private constructor(options: ServiceOptions) {
    this.options = options;
    this.server = createServer((socket) => this.accept(socket));
    this.closed = new Promise((resolve) => this.server.once('close', () => resolve()));
  }

  /** Listens on the run root's socket (a stale one from a service that died is replaced). */
  static async listen(options: ServiceOptions): Promise<Service> {
    const service = new Service(options);
    const file = socketPath(options.globals.runroot);
    mkdirSync(options.globals.runroot, { recursive: true, mode: 0o700 });
    if (existsSync(file)) {
      if (await answers(file)) throw new Error(`a service already listens on ${file}`);
      unlinkSync(file); // left by a service that died
    }
    await new Promise<void>((resolve, reject) => {
      service.server.once('error', reject);
      service.server.listen(file, () => resolve());
    });
    chmodSync(file, 0o600);
    service.armIdleTimer();
    return service;
  }

  /** Stops taking clients; running commands finish first. */
  close(): void {
    const file = socketPath(this.options.globals.runroot);
    if (existsSync(file)) unlinkSync(file);
    this.server.close();
  }

  private armIdleTimer(): void {
    clearTimeout(this.idleTimer);
    if (this.options.idleSeconds > 0 && this.sessions === 0)
      this.idleTimer = setTimeout(() => this.close(), this.options.idleSeconds * 1000);
  }

  private accept(socket: Socket): void {
    const decoder = new FrameDecoder();
    const onData = (chunk: Buffer) => {
      let frames: ReturnType<FrameDecoder['push']>;
      try {
        frames = decoder.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      const first = frames[0];
      if (!first) return;
      socket.off('data', onData);
      if (first.type !== FromClient.hello || frames.length > 1) {
        socket.destroy();
        return;
      }
      this.serve(socket, first.payload, decoder);
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
  }

  private serve(socket: Socket, helloPayload: Buffer, decoder: FrameDecoder): void {
    let session: Session;
    try {
      session = new Session(socket, parseHello(helloPayload), decoder);
    } catch {
      socket.destroy();
      return;
    }
    if (!sameEnv(session.env)) {
      session.send(ToClient.decline);
      socket.end();
      return;
    }
    const gate = gateFor(this.options.globals);
    const id = ++this.serial;
    let accepted = false;
    const admit: Gate = (command) => {
      if (!gate(command)) return false;
      accepted = true;
      session.send(ToClient.accept);
      this.options.log(`session ${id}: ${command.noun} ${command.verb}`);
      return true;
    };
    this.sessions++;
    clearTimeout(this.idleTimer);
    withIo(session, () => withLeaseHolder(`s${id}`, () => runCli(session.hello.argv, admit)))
      .then(
        (status) => {
          if (!accepted) session.send(ToClient.accept);
          session.finish(status);
        },
        (err: unknown) => {
          if (err instanceof Declined) {
            session.send(ToClient.decline);
            socket.end();
          } else {
            session.write(2, `Error: ${err instanceof Error ? err.message : String(err)}\n`);
            session.finish(1);
          }
        },
      )
      .finally(() => {
        this.sessions--;
        this.armIdleTimer();
      });
  }
}
