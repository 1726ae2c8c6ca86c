import { invalidArgument, parseGoDuration } from '../../common/index.ts';

/** The `config` part of an image config that `docker import --change` can set. */
export interface ContainerConfig {
  Cmd?: string[];
  Entrypoint?: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Labels?: Record<string, string>;
  /** Docker's HealthConfig: Test, and durations in nanoseconds. */
  Healthcheck?: {
    Test: string[];
    Interval?: number;
    Timeout?: number;
    StartPeriod?: number;
    StartInterval?: number;
    Retries?: number;
  };
}

const SUPPORTED = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'HEALTHCHECK', 'LABEL', 'USER', 'WORKDIR'];

/**
 * Applies Dockerfile-like instructions (`docker import --change`) to a container config: CMD and
 * ENTRYPOINT in exec form (a JSON array) or shell form (run by `/bin/sh -c`), ENV and LABEL as
 * `k=v ...` (quotes allowed) or the legacy `k v`, EXPOSE `port[/proto] ...`, USER, WORKDIR.
 */
export function applyChanges(base: ContainerConfig, changes: readonly string[]): ContainerConfig {
  const config: ContainerConfig = structuredClone(base);
  for (const [i, change] of changes.entries()) {
    const match = /^\s*([A-Za-z]+)\s+([\s\S]*?)\s*$/.exec(change);
    const what = `change[${i}] \`${change}\``;
    if (!match) throw invalidArgument(`${what}: expected \`INSTRUCTION arguments\``);
    const instruction = match[1]!.toUpperCase();
    const args = match[2]!;
    switch (instruction) {
      case 'CMD':
        config.Cmd = execOrShell(args, what);
        break;
      case 'ENTRYPOINT':
        config.Entrypoint = execOrShell(args, what);
        break;
      case 'ENV':
        for (const [k, v] of keyValues(args, what)) {
          config.Env = (config.Env ?? []).filter((e) => !e.startsWith(`${k}=`));
          config.Env.push(`${k}=${v}`);
        }
        break;
      case 'LABEL':
        config.Labels = { ...config.Labels, ...Object.fromEntries(keyValues(args, what)) };
        break;
      case 'EXPOSE':
        for (const port of args.split(/\s+/)) {
          const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/i.exec(port);
          if (!m || Number(m[1]) > 65535)
            throw invalidArgument(`${what}: \`${port}\` is not a port[/tcp|udp|sctp]`);
          config.ExposedPorts = {
            ...config.ExposedPorts,
            [`${Number(m[1])}/${(m[2] ?? 'tcp').toLowerCase()}`]: {},
          };
        }
        break;
      case 'USER':
        if (args === '' || /\s/.test(args)) throw invalidArgument(`${what}: USER takes one user[:group]`);
        config.User = args;
        break;
      case 'HEALTHCHECK':
        config.Healthcheck = healthcheck(args, what);
        break;
      case 'WORKDIR':
        if (!args.startsWith('/')) throw invalidArgument(`${what}: WORKDIR must be an absolute path`);
        config.WorkingDir = args;
        break;
      default:
        throw invalidArgument(`${what}: \`${instruction}\` cannot be changed (only ${SUPPORTED.join(', ')})`);
    }
  }
  return config;
}

function execOrShell(args: string, what: string): string[] {
  if (args.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(args);
    } catch {
      // Docker too runs a malformed exec form as a shell command.
      return ['/bin/sh', '-c', args];
    }
    if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string'))
      throw invalidArgument(`${what}: the exec form must be a JSON array of strings`);
    return parsed;
  }
  if (args === '') throw invalidArgument(`${what}: no command`);
  return ['/bin/sh', '-c', args];
}

/** `k=v k2="v 2"` pairs, or the legacy single `k v`. */
function keyValues(args: string, what: string): [string, string][] {
  if (!/^[^\s=]+=/.test(args)) {
    const m = /^(\S+)\s+([\s\S]+)$/.exec(args);
    if (!m) throw invalidArgument(`${what}: expected key=value`);
    return [[m[1]!, m[2]!]];
  }
  const out: [string, string][] = [];
  const re = /([^\s=]+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)\s*/gy;
  let end = 0;
  for (let m = re.exec(args); m !== null; m = re.exec(args)) {
    let value = m[2]!;
    if (value.startsWith('"')) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    else if (value.startsWith("'")) value = value.slice(1, -1);
    out.push([m[1]!, value]);
    end = re.lastIndex;
  }
  if (end !== args.length) throw invalidArgument(`${what}: cannot parse \`${args.slice(end)}\` as key=value`);
  return out;
}

const HEALTH_OPTIONS: Record<string, 'Interval' | 'Timeout' | 'StartPeriod' | 'StartInterval'> = {
  interval: 'Interval',
  timeout: 'Timeout',
  'start-period': 'StartPeriod',
  'start-interval': 'StartInterval',
};

/**
 * The Dockerfile's `HEALTHCHECK [--interval=D] [--timeout=D] [--start-period=D] [--start-interval=D]
 * [--retries=N] CMD command` (shell form: CMD-SHELL; exec form: CMD) or `HEALTHCHECK NONE`.
 */
function healthcheck(args: string, what: string): NonNullable<ContainerConfig['Healthcheck']> {
  let rest = args;
  const options: Omit<NonNullable<ContainerConfig['Healthcheck']>, 'Test'> = {};
  for (let m = /^--([a-z-]+)=(\S*)\s+/.exec(rest); m; m = /^--([a-z-]+)=(\S*)\s+/.exec(rest)) {
    const [, name = '', value = ''] = m;
    if (name === 'retries') {
      if (!/^\d+$/.test(value)) throw invalidArgument(`${what}: --retries takes a number, not \`${value}\``);
      options.Retries = Number(value);
    } else if (HEALTH_OPTIONS[name]) {
      let ns: number;
      try {
        ns = parseGoDuration(value);
      } catch (err) {
        throw invalidArgument(`${what}: --${name}: ${(err as Error).message}`);
      }
      if (ns !== 0 && ns < 1e6) throw invalidArgument(`${what}: --${name} cannot be less than 1ms`);
      options[HEALTH_OPTIONS[name]] = ns;
    } else throw invalidArgument(`${what}: unknown HEALTHCHECK option --${name}`);
    rest = rest.slice(m[0].length);
  }
  const m = /^(\S+)\s*([\s\S]*)$/.exec(rest);
  const type = m?.[1]?.toUpperCase();
  if (type === 'NONE') {
    if (m![2] !== '' || Object.keys(options).length > 0)
      throw invalidArgument(`${what}: HEALTHCHECK NONE takes no arguments or options`);
    return { Test: ['NONE'] };
  }
  if (type !== 'CMD') throw invalidArgument(`${what}: HEALTHCHECK takes CMD or NONE`);
  const command = execOrShell(m![2]!, what);
  const shell =
    command.length === 3 && command[0] === '/bin/sh' && command[1] === '-c' && !m![2]!.startsWith('[');
  return { Test: shell ? ['CMD-SHELL', command[2]!] : ['CMD', ...command], ...options };
}
