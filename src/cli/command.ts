/**
 * What every command module exports (commands/<noun>/<verb>.ts, `export default`), the context it
 * runs in, and the errors that end a command with docker's exit codes: 125 for a command line the
 * CLI cannot use, 1 when the operation itself failed, 64 for a `--format` that does not parse.
 */
import { type FlagSpec, flagUsages, type ParsedArgs } from './flags.ts';

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 125;
export const EXIT_TEMPLATE = 64;

export interface Globals {
  /** $SKIFF_ROOT or --root. */
  readonly root: string;
  /** $SKIFF_RUNROOT or --runroot. */
  readonly runroot: string;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error' | 'fatal';
}

export interface Context {
  readonly globals: Globals;
  /** How the user called it: `skiff images`, `skiff image ls`. */
  readonly commandPath: string;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Reads one line of standard input ('' at end of input). */
  readonly readLine: () => Promise<string>;
}

export interface CommandDef {
  /** Usage after the command path: `[OPTIONS] [REPOSITORY[:TAG]]`. */
  readonly usage: string;
  readonly summary: string;
  readonly flags: readonly FlagSpec[];
  /** Positional arguments allowed; max undefined means any number. */
  readonly args: { readonly min: number; readonly max?: number };
  /** false: flags end at the first positional (docker's run, create, exec). */
  readonly interspersed?: false;
  /** Returns the exit code. */
  run(ctx: Context, parsed: ParsedArgs): Promise<number>;
}

/** Ends the command: message printed to stderr as given, then exit with status. */
export class StatusError extends Error {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

/** An operation failure reported as docker reports the daemon's: `Error response from daemon: …`. */
export const daemonError = (message: string) =>
  new StatusError(`Error response from daemon: ${message}`, EXIT_FAILURE);

export const HELP_FLAG: FlagSpec = { name: 'help', short: 'h', type: 'bool', description: 'Print usage' };

/** docker's UseLine plus the summary, as printed under a usage error. */
export function usageBlock(commandPath: string, def: CommandDef): string {
  return `Usage:  ${commandPath} ${def.usage}\n\n${def.summary}`;
}

/** `skiff images --help`. */
export function helpText(commandPath: string, def: CommandDef, aliases: readonly string[]): string {
  let text = `\n${usageBlock(commandPath, def)}\n`;
  if (aliases.length > 1) text += `\nAliases:\n  ${aliases.join(', ')}\n`;
  const flags = def.flags.filter((f) => f.name !== 'help');
  if (flags.length > 0) text += `\nOptions:\n${flagUsages(flags)}`;
  return text;
}

/** docker's cli.RequiresExactArgs / RequiresMinArgs / RequiresMaxArgs / NoArgs messages. */
export function checkArgCount(commandPath: string, def: CommandDef, count: number): void {
  const { min, max } = def.args;
  const plural = (n: number) => (n === 1 ? 'argument' : 'arguments');
  let problem: string | undefined;
  if (max === 0 && count > 0) problem = `"${commandPath}" accepts no arguments.`;
  else if (min === max && count !== min) problem = `"${commandPath}" requires exactly ${min} ${plural(min)}.`;
  else if (count < min) problem = `"${commandPath}" requires at least ${min} ${plural(min)}.`;
  else if (max !== undefined && count > max)
    problem = `"${commandPath}" accepts at most ${max} ${plural(max)}.`;
  if (problem)
    throw new StatusError(
      `${problem}\nSee '${commandPath} --help'.\n\n${usageBlock(commandPath, def)}`,
      EXIT_USAGE,
    );
}
