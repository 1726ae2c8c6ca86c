/**
 * `skiff-runtime`: runc's command line over the runtime library. No logic lives here beyond
 * parsing arguments and printing results; see ../lifecycle.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  fileSink,
  invalidArgument,
  type LogFormat,
  Logger,
  runtimeRoot,
  SkiffError,
  stderrSink,
} from '../../common/index.ts';
import { defaultSpec, OCI_RUNTIME_SPEC_VERSION, type Process } from '../../oci/index.ts';
import type { ExecOverrides } from '../index.ts';
import { Runtime } from '../lifecycle.ts';
import { parseSignal } from '../signals.ts';
import { type Options, parseCommandArgs } from './args.ts';
import { OPERATION_COMMANDS } from './operations.ts';
import { renderTable } from './table.ts';

const VERSION = '0.1.0';

interface GlobalOptions {
  root: string;
  log?: string;
  logFormat: LogFormat;
  debug: boolean;
}

type Command = (runtime: Runtime, args: string[], globals: GlobalOptions) => Promise<number>;

const USAGE = `Usage: skiff-runtime [global options] COMMAND [options] [arguments]

A runc-compatible OCI runtime.

Commands:
  spec      write a default config.json into a bundle
  create    create a container from a bundle
  start     run the user process of a created container
  run       create and start a container
  state     print the OCI state of a container
  list      list containers
  kill      send a signal to a container's init (or every process, --all)
  delete    delete a container
  exec      run a process in a running container
  ps        list the processes of a container
  pause     freeze every process of a container
  resume    thaw a paused container
  update    change the resources of a container
  events    print a container's stats and OOM events
  features  print the OCI features document

Global options:
  --root DIR          state directory (default ${runtimeRoot()})
  --log FILE          write log messages to FILE (default: stderr)
  --log-format FMT    text or json (default text)
  --debug             log debug messages and show stack traces
  --version, -v       print the version
`;

interface CommandSpec {
  options: Options;
  run: Command;
  usage: string;
}

const EXEC_OPTIONS = {
  process: { type: 'string', short: 'p' },
  tty: { type: 'boolean', short: 't' },
  detach: { type: 'boolean', short: 'd' },
  env: { type: 'string', short: 'e', multiple: true },
  cwd: { type: 'string' },
  user: { type: 'string', short: 'u' },
  'additional-gids': { type: 'string', short: 'g', multiple: true },
  cap: { type: 'string', short: 'c', multiple: true },
  'no-new-privs': { type: 'boolean' },
  'pid-file': { type: 'string' },
  'console-socket': { type: 'string' },
  'preserve-fds': { type: 'string' },
  'process-label': { type: 'string' },
  apparmor: { type: 'string' },
  'ignore-paused': { type: 'boolean' },
  'no-subreaper': { type: 'boolean' },
  cgroup: { type: 'string', multiple: true },
} as const satisfies Options;

const COMMANDS: Record<string, CommandSpec> = {
  spec: {
    usage: 'spec [--bundle DIR] [--rootless]',
    options: { bundle: { type: 'string', short: 'b' }, rootless: { type: 'boolean' } },
    run: async (_runtime, args) => {
      const { values } = parse('spec', args, 0);
      const file = path.join(String(values.bundle ?? '.'), 'config.json');
      const spec = defaultSpec({ rootless: Boolean(values.rootless) });
      try {
        writeFileSync(file, `${JSON.stringify(spec, null, '\t')}\n`, { flag: 'wx' });
      } catch (err) {
        throw new SkiffError('AlreadyExists', `${file} already exists: remove it first`, { cause: err });
      }
      return 0;
    },
  },
  create: {
    usage:
      'create [--bundle DIR] [--pid-file FILE] [--no-pivot] [--preserve-fds N] [--console-socket PATH] ID',
    options: {
      bundle: { type: 'string', short: 'b' },
      'pid-file': { type: 'string' },
      'no-pivot': { type: 'boolean' },
      'preserve-fds': { type: 'string' },
      'no-new-keyring': { type: 'boolean' },
      'console-socket': { type: 'string' },
    },
    run: async (runtime, args) => {
      const { values, id } = parseWithId('create', args);
      await runtime.create({ id, ...createOptions(values) });
      return 0;
    },
  },
  run: {
    usage:
      'run [--bundle DIR] [--pid-file FILE] [--detach] [--no-pivot] [--preserve-fds N] [--console-socket PATH] [--keep] ID',
    options: {
      bundle: { type: 'string', short: 'b' },
      'pid-file': { type: 'string' },
      'no-pivot': { type: 'boolean' },
      'preserve-fds': { type: 'string' },
      'no-new-keyring': { type: 'boolean' },
      'console-socket': { type: 'string' },
      detach: { type: 'boolean', short: 'd' },
      keep: { type: 'boolean' },
    },
    run: async (runtime, args) => {
      const { values, id } = parseWithId('run', args);
      const foreground = !values.detach;
      const status = runtime.run({ id, foreground, keep: Boolean(values.keep), ...createOptions(values) });
      if (foreground) forwardSignals(runtime, id);
      return (await status) ?? 0;
    },
  },
  start: {
    usage: 'start ID',
    options: {},
    run: async (runtime, args) => {
      await runtime.start(parseWithId('start', args).id);
      return 0;
    },
  },
  state: {
    usage: 'state ID',
    options: {},
    run: async (runtime, args) => {
      const state = await runtime.state(parseWithId('state', args).id);
      process.stdout.write(`${JSON.stringify(state, null, '  ')}\n`);
      return 0;
    },
  },
  list: {
    usage: 'list [--format table|json] [--quiet]',
    options: {
      format: { type: 'string', short: 'f', default: 'table' },
      quiet: { type: 'boolean', short: 'q' },
    },
    run: async (runtime, args) => {
      const { values } = parse('list', args, 0);
      const states = await runtime.list();
      if (values.quiet) {
        for (const s of states) process.stdout.write(`${s.id}\n`);
      } else if (values.format === 'json') {
        process.stdout.write(`${JSON.stringify(states)}\n`);
      } else if (values.format === 'table') {
        const rows = states.map((s) => {
          const extra = s as typeof s & { created?: string; owner?: string };
          return [s.id, String(s.pid ?? 0), s.status, s.bundle, extra.created ?? '', extra.owner ?? ''];
        });
        process.stdout.write(renderTable(['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], rows));
      } else {
        throw invalidArgument(`invalid --format "${values.format}": use table or json`);
      }
      return 0;
    },
  },
  kill: {
    usage: 'kill [--all] ID [SIGNAL]',
    options: { all: { type: 'boolean', short: 'a' } },
    run: async (runtime, args) => {
      const { values, positionals } = parse('kill', args, 1, 2);
      await runtime.kill(positionals[0]!, parseSignal(positionals[1] ?? 'SIGTERM'), {
        all: Boolean(values.all),
      });
      return 0;
    },
  },
  exec: {
    usage:
      'exec [--process FILE] [--tty] [--detach] [--env K=V]... [--cwd DIR] [--user UID[:GID]] [--additional-gids GID]... [--cap CAP]... [--no-new-privs] [--pid-file FILE] [--console-socket PATH] [--preserve-fds N] ID [COMMAND [ARG...]]',
    options: EXEC_OPTIONS,
    run: runExec,
  },
  delete: {
    usage: 'delete [--force] ID',
    options: { force: { type: 'boolean', short: 'f' } },
    run: async (runtime, args) => {
      const { values, id } = parseWithId('delete', args);
      await runtime.delete(id, { force: Boolean(values.force) });
      return 0;
    },
  },
  ...OPERATION_COMMANDS,
};

function parse(command: string, args: string[], min: number, max = min) {
  return parseAs(command, args, min, max);
}

function parseAs(command: string, args: string[], min: number, max: number) {
  return parseCommandArgs(command, COMMANDS[command]!, args, min, max);
}

function parseWithId(command: string, args: string[]) {
  const parsed = parse(command, args, 1);
  return { values: parsed.values, id: parsed.positionals[0]! };
}

function createOptions(values: Record<string, unknown>) {
  const preserve = values['preserve-fds'];
  const preserveFds = preserve === undefined ? 0 : Number(preserve);
  if (!Number.isInteger(preserveFds) || preserveFds < 0) {
    throw invalidArgument(`invalid --preserve-fds "${String(preserve)}": use a number of fds`);
  }
  const consoleSocket = values['console-socket'] as string | undefined;
  return {
    bundle: values.bundle as string | undefined,
    pidFile: values['pid-file'] as string | undefined,
    noPivot: Boolean(values['no-pivot']),
    preserveFds,
    ...(consoleSocket !== undefined ? { consoleSocket: path.resolve(consoleSocket) } : {}),
    ...listenFds(),
  };
}

/**
 * Socket activation as runc (go-systemd's activation.Files): LISTEN_FDS counts fds from 3 meant for
 * this very process (LISTEN_PID is our pid); they are passed on, and the container is told.
 */
function listenFds(): { listenFds?: number } {
  const count = Number(process.env.LISTEN_FDS);
  if (!process.env.LISTEN_FDS || Number(process.env.LISTEN_PID) !== process.pid) return {};
  if (!Number.isInteger(count) || count <= 0) return {};
  return { listenFds: count };
}

/** Where exec's own options end: at the container id; what follows is the command, options and all. */
function splitExecArgs(args: string[]): { options: string[]; rest: string[] } {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return { options: args.slice(0, i), rest: args.slice(i + 1) };
    if (!arg.startsWith('-') || arg === '-') return { options: args.slice(0, i), rest: args.slice(i) };
    const name = arg.startsWith('--') ? arg.slice(2).split('=')[0]! : arg.slice(1, 2);
    const option = Object.entries(EXEC_OPTIONS as NonNullable<Options>).find(
      ([long, o]) => long === name || o.short === name,
    );
    const inline = arg.startsWith('--') ? arg.includes('=') : arg.length > 2;
    if (option?.[1].type === 'string' && !inline) i++;
  }
  return { options: args, rest: [] };
}

async function runExec(runtime: Runtime, args: string[]): Promise<number> {
  const split = splitExecArgs(args);
  const { values } = parseAs('exec', split.options, 0, 0);
  const [id, ...command] = split.rest;
  if (id === undefined)
    throw invalidArgument(`"exec" needs a container id\nusage: skiff-runtime ${COMMANDS.exec!.usage}`);
  const processFile = values.process as string | undefined;
  let proc: Process;
  if (processFile !== undefined) {
    proc = readProcessFile(processFile);
  } else {
    if (!command.length) throw invalidArgument('exec: name the command to run, or pass --process FILE');
    proc = await runtime.execProcessFor(id, execOverrides(values, command));
  }
  const detach = Boolean(values.detach);
  const consoleSocket = values['console-socket'] as string | undefined;
  const { preserveFds } = createOptions({ 'preserve-fds': values['preserve-fds'] });
  const run = await runtime.exec(id, proc, {
    detach,
    preserveFds,
    ...(values['pid-file'] !== undefined ? { pidFile: values['pid-file'] as string } : {}),
    ...(consoleSocket !== undefined ? { consoleSocket: path.resolve(consoleSocket) } : {}),
  });
  if (!run.exit) return 0;
  forwardSignalsTo(run.pid);
  return run.exit;
}

function readProcessFile(file: string): Process {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Process;
  } catch (err) {
    throw invalidArgument(`--process ${file}: ${(err as Error).message}`);
  }
}

function execOverrides(values: Record<string, unknown>, args: string[]): ExecOverrides {
  const list = (name: string) => (values[name] as string[] | undefined) ?? [];
  const overrides: ExecOverrides = { args, terminal: Boolean(values.tty), env: list('env') };
  if (values.cwd !== undefined) overrides.cwd = values.cwd as string;
  if (values.user !== undefined) overrides.user = parseUser(values.user as string);
  const gids = list('additional-gids').map((g) => parseId(g, '--additional-gids'));
  if (gids.length) overrides.additionalGids = gids;
  if (list('cap').length) overrides.capabilities = list('cap');
  if (values['no-new-privs']) overrides.noNewPrivileges = true;
  if (values.apparmor !== undefined) overrides.apparmorProfile = values.apparmor as string;
  if (values['process-label'] !== undefined) overrides.selinuxLabel = values['process-label'] as string;
  return overrides;
}

/** runc's --user: `uid[:gid]`, numbers only (names would need the container's /etc/passwd). */
function parseUser(text: string): { uid: number; gid?: number } {
  const [uid, gid, extra] = text.split(':');
  if (extra !== undefined) throw invalidArgument(`invalid --user "${text}": use uid[:gid]`);
  return { uid: parseId(uid ?? '', '--user'), ...(gid === undefined ? {} : { gid: parseId(gid, '--user') }) };
}

function parseId(text: string, flag: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 0xfffffffe) {
    throw invalidArgument(`invalid ${flag} "${text}": use numeric ids (uid[:gid])`);
  }
  return Number(text);
}

/** As runc exec: signals sent to the runtime go to the exec'd process. */
function forwardSignalsTo(pid: number): void {
  for (const signal of [
    'SIGINT',
    'SIGTERM',
    'SIGHUP',
    'SIGQUIT',
    'SIGUSR1',
    'SIGUSR2',
    'SIGWINCH',
  ] as const) {
    process.on(signal, () => {
      try {
        process.kill(pid, signal);
      } catch {
        // Gone already: its exit status answers the caller.
      }
    });
  }
}

/** As `runc run`: signals sent to the runtime go to the container's init. */
function forwardSignals(runtime: Runtime, id: string): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const) {
    process.on(signal, () => {
      runtime.kill(id, signal).catch(() => {
        // The container may be gone already; its exit status answers the caller.
      });
    });
  }
}

function parseGlobals(argv: string[]): { globals: GlobalOptions; rest: string[] } {
  const globals: GlobalOptions = { root: runtimeRoot(), logFormat: 'text', debug: false };
  let i = 0;
  const value = (flag: string) => {
    const eq = argv[i]!.indexOf('=');
    if (eq >= 0) return argv[i]!.slice(eq + 1);
    const next = argv[++i];
    if (next === undefined) throw invalidArgument(`${flag} needs a value`);
    return next;
  };
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-')) break;
    const name = arg.replace(/^--?/, '').split('=')[0];
    switch (name) {
      case 'root':
        globals.root = path.resolve(value('--root'));
        break;
      case 'log':
        globals.log = value('--log');
        break;
      case 'log-format': {
        const format = value('--log-format');
        if (format !== 'text' && format !== 'json')
          throw invalidArgument(`invalid --log-format "${format}": use text or json`);
        globals.logFormat = format;
        break;
      }
      case 'debug':
        globals.debug = true;
        break;
      case 'systemd-cgroup':
        throw invalidArgument(
          '--systemd-cgroup: the systemd cgroup driver is not supported; use cgroupfs paths',
        );
      case 'rootless':
        value('--rootless');
        break;
      case 'criu':
        value('--criu');
        break;
      case 'version':
      case 'v':
        return { globals, rest: ['--version'] };
      case 'help':
      case 'h':
        return { globals, rest: ['--help'] };
      default:
        throw invalidArgument(`unknown global option "${arg}"\n${USAGE}`);
    }
  }
  return { globals, rest: argv.slice(i) };
}

export async function main(argv: string[]): Promise<number> {
  let globals: GlobalOptions = { root: runtimeRoot(), logFormat: 'text', debug: false };
  let logger = new Logger({ sink: stderrSink });
  try {
    const parsed = parseGlobals(argv);
    globals = parsed.globals;
    // Stack traces point into the TypeScript sources only when asked: loading the map costs start-up.
    if (globals.debug) process.setSourceMapsEnabled(true);
    logger = new Logger({
      sink: globals.log ? fileSink(globals.log) : stderrSink,
      format: globals.logFormat,
      level: globals.debug ? 'debug' : 'warn',
    });
    const [command, ...args] = parsed.rest;
    if (command === '--version') {
      process.stdout.write(`skiff-runtime version ${VERSION}\nspec: ${OCI_RUNTIME_SPEC_VERSION}\n`);
      return 0;
    }
    if (command === undefined || command === '--help' || command === 'help') {
      process.stdout.write(USAGE);
      return command === undefined ? 1 : 0;
    }
    const spec = COMMANDS[command];
    if (!spec) throw invalidArgument(`unknown command "${command}" (skiff-runtime --help lists them)`);
    const runtime = new Runtime({ root: globals.root, logger });
    return await spec.run(runtime, args, globals);
  } catch (err) {
    reportError(err, logger, globals);
    return 1;
  }
}

function reportError(err: unknown, logger: Logger, globals: GlobalOptions): void {
  const message = err instanceof Error ? err.message : String(err);
  const misuse = err instanceof SkiffError && err.kind === 'InvalidArgument';
  // A wrong command line is for the person typing it: plain text, as runc prints "Incorrect Usage".
  if (!misuse || globals.log) logger.error(message);
  // With --log the caller (podman, conmon) reads the file; people running us by hand read stderr.
  if (misuse || globals.log) process.stderr.write(`skiff-runtime: ${message}\n`);
  if (globals.debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`skiff-runtime: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
