import { type ParseArgsConfig, parseArgs } from 'node:util';
import { invalidArgument } from '../../common/index.ts';

export type Options = ParseArgsConfig['options'];

/**
 * Parses one command's flags and positional arguments, strictly: an unknown flag or a wrong number
 * of arguments is an InvalidArgument error that ends with the command's usage line.
 */
export function parseCommandArgs(
  name: string,
  spec: { options: Options; usage: string },
  args: string[],
  min: number,
  max = min,
) {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options: spec.options, allowPositionals: true, strict: true });
  } catch (err) {
    throw invalidArgument(`${(err as Error).message}\nusage: skiff-runtime ${spec.usage}`);
  }
  const count = parsed.positionals.length;
  if (count < min || count > max) {
    throw invalidArgument(
      `"${name}" takes ${min === max ? min : `${min} to ${max}`} argument(s), got ${count}\nusage: skiff-runtime ${spec.usage}`,
    );
  }
  return parsed;
}
