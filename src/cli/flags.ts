/**
 * Flag parsing as docker's (spf13/pflag under cobra): `--name value`, `--name=value`, `-n value`,
 * `-nvalue`, grouped booleans `-aq`, `--bool=false`, repeatable flags, flags between positionals,
 * `--` ending the flags. Errors carry pflag's wording ("unknown flag: --x").
 */

export interface FlagSpec {
  readonly name: string;
  readonly short?: string;
  /** bool; string (last one wins); list (repeatable, e.g. --filter). */
  readonly type: 'bool' | 'string' | 'list';
  readonly description: string;
  /** Shown in help as pflag does: (default "x"). */
  readonly defaultText?: string;
  /** The name in help after the flag: `--format string`. */
  readonly valueName?: string;
  /** Accepted but not listed in help (pflag's MarkHidden, e.g. docker's `--net`). */
  readonly hidden?: boolean;
}

export type FlagValues = Record<string, boolean | string | string[] | undefined>;

export interface ParsedArgs {
  readonly flags: FlagValues;
  readonly args: string[];
}

export class FlagError extends Error {}

const BOOL_TEXT: Record<string, boolean> = {
  '1': true,
  t: true,
  T: true,
  true: true,
  TRUE: true,
  True: true,
  '0': false,
  f: false,
  F: false,
  false: false,
  FALSE: false,
  False: false,
};

export interface ParseOptions {
  /**
   * pflag's SetInterspersed(false), as docker's run, create and exec: flags end at the first
   * positional, so `run img sh -c x` leaves `-c` to the container's command.
   */
  readonly interspersed?: false;
}

export function parseFlags(
  specs: readonly FlagSpec[],
  argv: readonly string[],
  options: ParseOptions = {},
): ParsedArgs {
  const flags: FlagValues = {};
  const args: string[] = [];
  const set = (spec: FlagSpec, value: string | boolean, shown: string) => {
    if (spec.type === 'bool') {
      const b = typeof value === 'boolean' ? value : BOOL_TEXT[value];
      if (b === undefined)
        throw new FlagError(
          `invalid argument "${value}" for "${shown}" flag: strconv.ParseBool: parsing "${value}": invalid syntax`,
        );
      flags[spec.name] = b;
    } else if (spec.type === 'list')
      flags[spec.name] = [...((flags[spec.name] as string[]) ?? []), String(value)];
    else flags[spec.name] = String(value);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq === -1 ? undefined : eq);
      const spec = specs.find((s) => s.name === name);
      if (!spec) throw new FlagError(`unknown flag: --${name}`);
      const shown = spec.short ? `-${spec.short}, --${spec.name}` : `--${spec.name}`;
      if (eq !== -1) set(spec, arg.slice(eq + 1), shown);
      else if (spec.type === 'bool') set(spec, true, shown);
      else if (i + 1 < argv.length) set(spec, argv[++i]!, shown);
      else throw new FlagError(`flag needs an argument: --${name}`);
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const c = arg[j]!;
        const spec = specs.find((s) => s.short === c);
        if (!spec) throw new FlagError(`unknown shorthand flag: '${c}' in ${arg}`);
        const shown = `-${c}, --${spec.name}`;
        if (spec.type === 'bool') {
          if (arg[j + 1] === '=') {
            set(spec, arg.slice(j + 2), shown);
            break;
          }
          set(spec, true, shown);
          continue;
        }
        const rest = arg.slice(j + 1).replace(/^=/, '');
        if (rest !== '') set(spec, rest, shown);
        else if (i + 1 < argv.length) set(spec, argv[++i]!, shown);
        else throw new FlagError(`flag needs an argument: '${c}' in -${c}`);
        break;
      }
      continue;
    }
    if (options.interspersed === false) {
      args.push(...argv.slice(i));
      break;
    }
    args.push(arg);
  }
  return { flags, args };
}

/** pflag's FlagUsages: `  -a, --all             Show all images`, descriptions aligned. */
export function flagUsages(allSpecs: readonly FlagSpec[]): string {
  const specs = allSpecs.filter((s) => !s.hidden);
  const lefts = specs.map((s) => {
    const names = s.short ? `  -${s.short}, --${s.name}` : `      --${s.name}`;
    const value = s.type === 'bool' ? '' : ` ${s.valueName ?? (s.type === 'list' ? 'filter' : 'string')}`;
    return names + value;
  });
  const width = Math.max(0, ...lefts.map((l) => l.length));
  return specs
    .map((s, i) => {
      const def = s.defaultText !== undefined ? ` (default ${s.defaultText})` : '';
      const description = s.description.replaceAll('\n', `\n${' '.repeat(width + 3)}`);
      return `${lefts[i]!.padEnd(width)}   ${description}${def}\n`;
    })
    .join('');
}
