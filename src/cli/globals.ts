/** skiff's global options (before the command word), as docker's: --root, --runroot, --log-level. */
import { EXIT_USAGE, type Globals, StatusError } from './command.ts';
import type { FlagSpec } from './flags.ts';
import { currentIo } from './io.ts';

const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'fatal'] as const;

export const GLOBAL_FLAGS: FlagSpec[] = [
  {
    name: 'root',
    type: 'string',
    description: 'Persistent state: images, layers, the database',
    valueName: 'string',
    defaultText: '"$SKIFF_ROOT" or "/var/lib/skiff"',
  },
  {
    name: 'runroot',
    type: 'string',
    description: 'Volatile state',
    valueName: 'string',
    defaultText: '"$SKIFF_RUNROOT" or "/run/skiff"',
  },
  {
    name: 'log-level',
    short: 'l',
    type: 'string',
    description: 'Set the logging level ("debug", "info", "warn", "error", "fatal")',
    defaultText: '"info"',
  },
  { name: 'debug', short: 'D', type: 'bool', description: 'Enable debug mode' },
  { name: 'version', short: 'v', type: 'bool', description: 'Print version information and quit' },
  { name: 'help', type: 'bool', description: 'Print usage' },
];

/** Splits argv at the command: the global flags before it, the command words and its arguments. */
export function splitGlobals(argv: string[]): { globalArgs: string[]; rest: string[] } {
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-') || arg === '-') break;
    if (arg === '--') {
      i++;
      break;
    }
    const spec = arg.startsWith('--')
      ? GLOBAL_FLAGS.find((f) => f.name === arg.slice(2).split('=')[0])
      : GLOBAL_FLAGS.find((f) => f.short === arg[1]);
    if (spec && spec.type !== 'bool' && !arg.includes('=') && !(arg.length > 2 && !arg.startsWith('--'))) i++;
  }
  return { globalArgs: argv.slice(0, Math.min(i, argv.length)), rest: argv.slice(Math.min(i, argv.length)) };
}

export function globalsFrom(flags: Record<string, unknown>): Globals {
  const level = flags.debug ? 'debug' : String(flags['log-level'] ?? 'info');
  if (!(LOG_LEVELS as readonly string[]).includes(level))
    throw new StatusError(`Unable to parse logging level: ${level}`, EXIT_USAGE);
  return {
    root: String(flags.root ?? (currentIo().env.SKIFF_ROOT || '/var/lib/skiff')),
    runroot: String(flags.runroot ?? (currentIo().env.SKIFF_RUNROOT || '/run/skiff')),
    logLevel: level as Globals['logLevel'],
  };
}
