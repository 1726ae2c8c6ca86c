/**
 * What `skiff-client` (native/tools/client.c) and the service say to each other over
 * $SKIFF_RUNROOT/skiff.sock: the attach socket's 8-byte frames (engine/monitor/frames.ts), with
 * these types. The client opens with a hello; the service answers `accept` (the command runs here,
 * and is never re-run by the client) or `decline` (the client runs it itself), then relays.
 */
import { invalidArgument } from '../../common/index.ts';

/** Client to service. */
export const FromClient = { hello: 1, stdin: 2, stdinEnd: 3, signal: 4, resize: 5 } as const;
/** Service to client. */
export const ToClient = {
  stdout: 1,
  stderr: 2,
  exit: 3,
  raw: 4,
  decline: 5,
  readStdin: 6,
  accept: 7,
} as const;

export interface Hello {
  cwd: string;
  tty: [boolean, boolean, boolean];
  rows: number;
  columns: number;
  argv: string[];
  env: NodeJS.ProcessEnv;
}

/** The hello: NUL-terminated strings — cwd, "t0 t1 t2", "rows cols", argc, argv…, then KEY=VALUE…. */
export function parseHello(payload: Buffer): Hello {
  const fields = payload.toString('utf8').split('\0');
  fields.pop(); // after the last NUL
  const [cwd, ttys, size, argc, ...rest] = fields;
  const count = Number(argc);
  if (cwd === undefined || ttys === undefined || size === undefined || !Number.isInteger(count) || count < 0)
    throw invalidArgument('service: a hello without cwd, terminals, size and argument count');
  const [rows, columns] = size.split(' ').map(Number);
  const env: NodeJS.ProcessEnv = {};
  for (const entry of rest.slice(count)) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  const tty = ttys.split(' ').map((t) => t === '1');
  return {
    cwd,
    tty: [tty[0] ?? false, tty[1] ?? false, tty[2] ?? false],
    rows: rows ?? 0,
    columns: columns ?? 0,
    argv: rest.slice(0, count),
    env,
  };
}
