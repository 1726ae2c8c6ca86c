/**
 * `skiff-runtime`: runc's command line over the runtime library. No logic lives here beyond
 * parsing arguments and printing results; see ../lifecycle.ts.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import {
  fileSink,
  invalidArgument,
  type LogFormat,
  Logger,
  runtimeRoot,
  SkiffError,
  stderrSink,
} from '../../common/index.ts';
import { defaultSpec, OCI_RUNTIME_SPEC_VERSION } from '../../oci/index.ts';
import { Runtime } from '../lifecycle.ts';
import { parseSignal } from '../signals.ts';
import { OPERATION_COMMANDS } from './operations.ts';
import { renderTable } from './table.ts';

const VERSION = '0.1.0';

interface GlobalOptions {
  root: string;
  log?: string;
  logFormat: LogFormat;
  debug: boolean;
}

type Options = ParseArgsConfig['options'];
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
    usage: 'create [--bundle DIR] [--pid-file FILE] [--no-pivot] [--preserve-fds N] ID',
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
      rejectConsoleSocket(values);
      await runtime.create({ id, ...createOptions(values) });
      return 0;
    },
  },
  run: {
    usage: 'run [--bundle DIR] [--pid-file FILE] [--detach] [--no-pivot] [--preserve-fds N] [--keep] ID',
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
      rejectConsoleSocket(values);
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
  const spec = COMMANDS[command]!;
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options: spec.options, allowPositionals: true, strict: true });
  } catch (err) {
    throw invalidArgument(`${(err as Error).message}\nusage: skiff-runtime ${spec.usage}`);
  }
  const count = parsed.positionals.length;
  if (count < min || count > max) {
    throw invalidArgument(
      `"${command}" takes ${min === max ? min : `${min} to ${max}`} argument(s), got ${count}\nusage: skiff-runtime ${spec.usage}`,
    );
  }
  return parsed;
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
  return {
    bundle: values.bundle as string | undefined,
    pidFile: values['pid-file'] as string | undefined,
    noPivot: Boolean(values['no-pivot']),
    preserveFds,
  };
}

function rejectConsoleSocket(values: Record<string, unknown>): void {
  if (values['console-socket'] !== undefined) {
    throw invalidArgument(
      '--console-socket: terminals are not supported by skiff-runtime yet (process.terminal)',
    );
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
