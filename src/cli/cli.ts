/**
 * docker's command line over skiff's libraries: finds the command and maps errors to docker's
 * messages and exit codes; each command module is loaded when it runs. Run by `skiff` itself
 * (main.ts) or, for a client, by the resident service (service/), talking to `currentIo()`.
 */
import {
  type Context,
  checkArgCount,
  EXIT_FAILURE,
  EXIT_TEMPLATE,
  EXIT_USAGE,
  type Globals,
  HELP_FLAG,
  helpText,
  StatusError,
  usageBlock,
} from './command.ts';
import { aliasesOf, findVerb, NOUNS, TOP_LEVEL } from './commands/index.ts';
import { FlagError, flagUsages, parseFlags } from './flags.ts';
import { GLOBAL_FLAGS, globalsFrom, splitGlobals } from './globals.ts';
import { currentIo } from './io.ts';
import { TemplateError } from './render/index.ts';

const VERSION = '0.1.0';
function mainUsage(): string {
  const width = 12;
  const nouns = Object.entries(NOUNS)
    .map(([name, n]) => `  ${name.padEnd(width)}${n.summary}\n`)
    .join('');
  const common = Object.entries(TOP_LEVEL)
    .map(([name, [noun, verb]]) => `  ${name.padEnd(width)}${NOUNS[noun]!.verbs[verb]!.summary}\n`)
    .join('');
  return `
Usage:  skiff [OPTIONS] COMMAND

A container engine with docker's command line

Common Commands:
${common}
Management Commands:
${nouns}
Global Options:
${flagUsages(GLOBAL_FLAGS.filter((f) => f.name !== 'help'))}
Run 'skiff COMMAND --help' for more information on a command.
`;
}

function nounUsage(noun: string): string {
  // Sorted as cobra lists subcommands (verbs are appended to the table as they are added).
  const verbs = Object.entries(NOUNS[noun]!.verbs)
    .filter(([, v]) => !v.hidden)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, v]) => `  ${name.padEnd(12)}${v.summary}\n`)
    .join('');
  return `
Usage:  skiff ${noun} COMMAND

${NOUNS[noun]!.summary}

Commands:
${verbs}
Run 'skiff ${noun} COMMAND --help' for more information on a command.
`;
}

/** Loads readline only when a command asks (a prompt): it pulls in Node's streams, costing start-up. */
function lineReader(): () => Promise<string> {
  let rl: import('node:readline').Interface | undefined;
  return async () => {
    const { createInterface } = await import('node:readline');
    return new Promise((resolve) => {
      rl ??= createInterface({ input: currentIo().stdin(), terminal: false });
      let done = false;
      const finish = (line: string) => {
        if (done) return;
        done = true;
        rl!.close();
        resolve(line);
      };
      rl.once('line', finish);
      rl.once('close', () => finish(''));
    });
  };
}

const stdout = (text: string) => currentIo().write(1, text);
const stderr = (text: string) => currentIo().write(2, text);

/**
 * Decides, once the command is known and parsed, whether it runs here: the service declines what it
 * cannot run for a client (the client then runs it itself). Without a gate everything runs.
 */
export type Gate = (command: {
  noun: string;
  verb: string;
  flags: Record<string, unknown>;
  globals: Globals;
}) => boolean;

/** Thrown when the gate declined the command, before anything was written. */
export class Declined extends Error {}

async function run(argv: string[], state: { debug: boolean }, gate?: Gate): Promise<number> {
  const { globalArgs, rest } = splitGlobals(argv);
  let globalFlags: Record<string, unknown>;
  try {
    globalFlags = parseFlags(GLOBAL_FLAGS, globalArgs).flags;
  } catch (err) {
    if (err instanceof FlagError) throw new StatusError(`${err.message}\nSee 'skiff --help'.`, EXIT_USAGE);
    throw err;
  }
  if (globalFlags.version) {
    stdout(`skiff version ${VERSION}\n`);
    return 0;
  }
  if (globalFlags.help || rest.length === 0) {
    stdout(mainUsage());
    return 0;
  }
  const globals = globalsFrom(globalFlags);
  state.debug = globals.logLevel === 'debug';
  const [first, ...after] = rest as [string, ...string[]];
  let noun: string;
  let verb: string;
  let args: string[];
  let commandPath: string;
  if (TOP_LEVEL[first]) {
    [noun, verb] = TOP_LEVEL[first];
    args = after;
    commandPath = `skiff ${first}`;
  } else if (NOUNS[first]) {
    const [second, ...more] = after;
    if (second === undefined || second === '--help' || second === '-h') {
      stdout(nounUsage(first));
      return 0;
    }
    const found = findVerb(first, second);
    if (!found)
      throw new StatusError(
        `skiff: '${first} ${second}' is not a skiff command.\nSee 'skiff ${first} --help'`,
        EXIT_USAGE,
      );
    noun = first;
    verb = found.name;
    args = more;
    commandPath = `skiff ${first} ${second}`;
  } else {
    throw new StatusError(`skiff: '${first}' is not a skiff command.\nSee 'skiff --help'`, EXIT_USAGE);
  }
  const def = (await findVerb(noun, verb)!.entry.load()).default;
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(
      [...def.flags, HELP_FLAG],
      args,
      def.interspersed === false ? { interspersed: false } : {},
    );
  } catch (err) {
    if (err instanceof FlagError)
      throw new StatusError(
        `${err.message}\n\n${usageBlock(commandPath, def).split('\n\n')[0]}\n\nRun '${commandPath} --help' for more information`,
        EXIT_USAGE,
      );
    throw err;
  }
  if (parsed.flags.help) {
    stdout(helpText(commandPath, def, aliasesOf(noun, verb)));
    return 0;
  }
  checkArgCount(commandPath, def, parsed.args.length);
  if (gate && !gate({ noun, verb, flags: parsed.flags, globals })) throw new Declined();
  const ctx: Context = {
    globals,
    commandPath,
    out: stdout,
    err: stderr,
    readLine: lineReader(),
  };
  return def.run(ctx, parsed);
}

/** Runs one command line; returns the exit status (errors printed as docker prints them). */
export async function runCli(argv: string[], gate?: Gate): Promise<number> {
  // Set once the global options are read: stack traces only at --log-level debug (-D).
  const state = { debug: false };
  try {
    return await run(argv, state, gate);
  } catch (err) {
    if (err instanceof Declined) throw err;
    return report(err, state.debug);
  }
}

/** Prints an error as docker does and returns the exit code. */
function report(err: unknown, debug: boolean): number {
  if (err instanceof StatusError) {
    stderr(`${err.message}\n`);
    return err.status;
  }
  if (err instanceof TemplateError) {
    stderr(`${err.parse ? 'template parsing error: ' : ''}${err.message}\n`);
    return err.parse ? EXIT_TEMPLATE : EXIT_FAILURE;
  }
  const e = err as Error;
  stderr(`Error: ${e?.message ?? String(err)}\n`);
  if (debug && e?.stack) stderr(`${e.stack}\n`);
  return EXIT_FAILURE;
}
