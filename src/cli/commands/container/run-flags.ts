/**
 * The flags of `run` and `create` (docker CLI's cli/command/container/opts.go: names, shorthands, help
 * texts) and their translation into the API's Config and HostConfig, with docker's validation and
 * wording. A bad value ends the command with 125 as docker's flag errors do.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ramInBytes } from '../../../common/index.ts';
import type { ContainerConfig, HostConfig, Mount, Ulimit } from '../../../engine/index.ts';
import {
  isNamespacedSysctl,
  logOptions,
  networkModeOf,
  parseRestartPolicy,
  rlimitType,
} from '../../../engine/index.ts';
import { EXIT_USAGE, StatusError } from '../../command.ts';
import type { FlagSpec, ParsedArgs } from '../../flags.ts';
import { currentIo } from '../../io.ts';
import { HEALTH_FLAGS, healthConfig, NO_HEALTHCHECK_FLAG } from './health-flags.ts';
import { endpointsConfig, NETWORK_FLAGS, parseNetworkFlags } from './network-flags.ts';

const list = (name: string, description: string, extra: Partial<FlagSpec> = {}): FlagSpec => ({
  name,
  type: 'list',
  description,
  valueName: 'list',
  ...extra,
});
const str = (name: string, description: string, extra: Partial<FlagSpec> = {}): FlagSpec => ({
  name,
  type: 'string',
  description,
  ...extra,
});
const bool = (name: string, description: string, extra: Partial<FlagSpec> = {}): FlagSpec => ({
  name,
  type: 'bool',
  description,
  ...extra,
});

/** The flags `create` and `run` share, in docker's (alphabetical) help order. */
export const CREATE_FLAGS: readonly FlagSpec[] = [
  list('attach', 'Attach to STDIN, STDOUT or STDERR', { short: 'a' }),
  list('cap-add', 'Add Linux capabilities'),
  list('cap-drop', 'Drop Linux capabilities'),
  str('cpu-shares', 'CPU shares (relative weight)', { short: 'c', valueName: 'int' }),
  str('cpus', 'Number of CPUs', { valueName: 'decimal' }),
  str('cpuset-cpus', 'CPUs in which to allow execution (0-3, 0,1)'),
  list('device', 'Add a host device to the container'),
  str('entrypoint', 'Overwrite the default ENTRYPOINT of the image'),
  list('env', 'Set environment variables', { short: 'e' }),
  list('env-file', 'Read in a file of environment variables'),
  ...HEALTH_FLAGS,
  str('hostname', 'Container host name', { short: 'h' }),
  bool('init', 'Run an init inside the container that forwards signals and reaps processes'),
  bool('interactive', 'Keep STDIN open even if not attached', { short: 'i' }),
  list('label', 'Set meta data on a container', { short: 'l' }),
  str('log-driver', 'Logging driver for the container'),
  list('log-opt', 'Log driver options'),
  str('memory', 'Memory limit', { short: 'm', valueName: 'bytes' }),
  str('memory-reservation', 'Memory soft limit', { valueName: 'bytes' }),
  str('memory-swap', "Swap limit equal to memory plus swap: '-1' to enable unlimited swap", {
    valueName: 'bytes',
  }),
  list('mount', 'Attach a filesystem mount to the container', { valueName: 'mount' }),
  str('name', 'Assign a name to the container'),
  str('net', 'Connect a container to a network', { valueName: 'network', hidden: true }),
  str('network', 'Connect a container to a network', { valueName: 'network' }),
  NO_HEALTHCHECK_FLAG,
  str('pids-limit', 'Tune container pids limit (set -1 for unlimited)', { valueName: 'int' }),
  bool('privileged', 'Give extended privileges to this container'),
  str('pull', 'Pull image before running ("always", "missing", "never")', { defaultText: '"missing"' }),
  bool('read-only', "Mount the container's root filesystem as read only"),
  str('restart', 'Restart policy to apply when a container exits', { defaultText: '"no"' }),
  bool('rm', 'Automatically remove the container and its associated anonymous volumes when it exits'),
  list('security-opt', 'Security Options'),
  str('shm-size', 'Size of /dev/shm', { valueName: 'bytes' }),
  str('stop-signal', 'Signal to stop the container'),
  str('stop-timeout', 'Timeout (in seconds) to stop a container', { valueName: 'int' }),
  list('sysctl', 'Sysctl options', { valueName: 'map', defaultText: 'map[]' }),
  list('tmpfs', 'Mount a tmpfs directory'),
  bool('tty', 'Allocate a pseudo-TTY', { short: 't' }),
  list('ulimit', 'Ulimit options', { valueName: 'ulimit', defaultText: '[]' }),
  str('user', 'Username or UID (format: <name|uid>[:<group|gid>])', { short: 'u' }),
  list('volume', 'Bind mount a volume', { short: 'v' }),
  str('workdir', 'Working directory inside the container', { short: 'w' }),
  ...NETWORK_FLAGS,
].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

/** `run` adds -d and --sig-proxy to create's flags. */
export const RUN_FLAGS: readonly FlagSpec[] = [
  ...CREATE_FLAGS.slice(0, 6),
  bool('detach', 'Run container in background and print container ID', { short: 'd' }),
  ...CREATE_FLAGS.slice(6),
  bool('sig-proxy', 'Proxy received signals to the process', { defaultText: 'true' }),
  // Code-unit order, not localeCompare: that loads ICU's collator, 16 ms of every `run`.
].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

export interface RunFlags {
  readonly name?: string;
  readonly image: string;
  readonly config: ContainerConfig;
  readonly hostConfig: HostConfig;
  readonly pull: 'missing' | 'always' | 'never';
  readonly detach: boolean;
  readonly interactive: boolean;
  readonly tty: boolean;
  readonly autoRemove: boolean;
  readonly sigProxy: boolean;
  /** docker's NetworkingConfig (--ip, --network-alias). */
  readonly networking?: { EndpointsConfig: NonNullable<ReturnType<typeof endpointsConfig>> };
}

/** The name the engine's commands knew this result by. */
export type RunOptions = RunFlags;

export interface RunFlagsContext {
  /** 'run' or 'create': docker words their errors differently. */
  readonly verb: 'run' | 'create';
  /** The CLI's environment (`-e VAR` takes VAR's value from it); default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Relative `-v ./x:/y` and `--mount src=./x` are made absolute against it; default process.cwd(). */
  readonly cwd?: string;
}

/** A value one flag cannot use: pflag's wording under docker's FlagErrorFunc. */
class FlagValueError extends Error {}

function flagError(spec: FlagSpec, value: string, message: string): FlagValueError {
  const shown = spec.short ? `-${spec.short}, --${spec.name}` : `--${spec.name}`;
  return new FlagValueError(`invalid argument "${value}" for "${shown}" flag: ${message}`);
}

const SPEC = new Map(RUN_FLAGS.map((f) => [f.name, f]));

/** Runs a value check of one flag, turning its Error into pflag's message. */
function checked<T>(name: string, value: string, parse: (v: string) => T): T {
  try {
    return parse(value);
  } catch (err) {
    if (err instanceof FlagValueError) throw err;
    throw flagError(SPEC.get(name)!, value, (err as Error).message);
  }
}

/** Go's strconv.ParseInt(v, 10, 64) with its error text. */
function parseInt64(text: string): number {
  if (!/^[+-]?\d+$/.test(text)) throw new Error(`strconv.ParseInt: parsing "${text}": invalid syntax`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new Error(`strconv.ParseInt: parsing "${text}": value out of range`);
  return n;
}

/** opts.NanoCPUs: a decimal number of CPUs in billionths. */
function parseNanoCpus(text: string): number {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(text)) throw new Error(`failed to parse ${text} as a rational number`);
  const [whole = '0', frac = ''] = text.replace(/^[+-]/, '').split('.');
  if (frac.replace(/0+$/, '').length > 9) throw new Error('value is too precise');
  const nano = Number(whole) * 1e9 + Number(frac.padEnd(9, '0').slice(0, 9) || '0');
  return text.startsWith('-') ? -nano : nano;
}

const ULIMIT_NAMES = new Set([
  'core',
  'cpu',
  'data',
  'fsize',
  'locks',
  'memlock',
  'msgqueue',
  'nice',
  'nofile',
  'nproc',
  'rss',
  'rtprio',
  'rttime',
  'sigpending',
  'stack',
]);

/** go-units ParseUlimit: `name=soft[:hard]`. */
export function parseUlimit(text: string): Ulimit {
  const eq = text.indexOf('=');
  if (eq < 0) throw new Error(`invalid ulimit argument: ${text}`);
  const name = text.slice(0, eq);
  if (!ULIMIT_NAMES.has(name)) throw new Error(`invalid ulimit type: ${name}`);
  rlimitType(name);
  const parts = text.slice(eq + 1).split(':');
  if (parts.length > 2)
    throw new Error(
      `too many limit value arguments - ${text.slice(eq + 1)}, can only have up to two, \`soft[:hard]\``,
    );
  const soft = parseInt64(parts[0]!);
  const hard = parts.length === 2 ? parseInt64(parts[1]!) : soft;
  if (soft > hard)
    throw new Error(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return { Name: name, Hard: hard, Soft: soft };
}

/** Go's encoding/csv for one record: fields split at commas, "quoted, fields" and "" escapes. */
function csvFields(text: string): string[] {
  const fields: string[] = [];
  let i = 0;
  while (i <= text.length) {
    if (text[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length)
          throw new Error('parse error on line 1, column 1: extraneous or missing " in quoted-field');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i++];
      }
      fields.push(value);
      if (i < text.length && text[i] !== ',')
        throw new Error(`parse error on line 1, column ${i + 1}: extraneous or missing " in quoted-field`);
      i++;
    } else {
      const end = text.indexOf(',', i);
      fields.push(text.slice(i, end < 0 ? undefined : end));
      i = end < 0 ? text.length + 1 : end + 1;
    }
  }
  return fields;
}

const GO_BOOL: Record<string, boolean> = { '1': true, t: true, T: true, true: true, TRUE: true, True: true };
for (const f of ['0', 'f', 'F', 'false', 'FALSE', 'False']) GO_BOOL[f] = false;

function absolutized(source: string, cwd: string): string {
  return source === '.' || source.startsWith('./') ? path.resolve(cwd, source) : source;
}

/** docker's MountOpt.Set: `type=bind,source=/a,target=/b,readonly`. */
export function parseMount(text: string, cwd = currentIo().cwd): Mount {
  const mount: Mount = { Type: 'volume' };
  const volume = () => (mount.VolumeOptions ??= {});
  const bind = () => (mount.BindOptions ??= {});
  const tmpfs = () => (mount.TmpfsOptions ??= {});
  const boolOf = (key: string, val: string) => {
    const b = GO_BOOL[val];
    if (b === undefined) throw new Error(`invalid value for ${key}: ${val}`);
    return b;
  };
  for (const field of csvFields(text)) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const val = eq < 0 ? '' : field.slice(eq + 1);
    if (eq < 0) {
      if (key === 'readonly' || key === 'ro') mount.ReadOnly = true;
      else if (key === 'volume-nocopy') volume().NoCopy = true;
      else if (key === 'bind-nonrecursive') bind().NonRecursive = true;
      else throw new Error(`invalid field '${field}' must be a key=value pair`);
      continue;
    }
    switch (key) {
      case 'type':
        mount.Type = val.toLowerCase() as Mount['Type'];
        break;
      case 'source':
      case 'src':
        mount.Source = absolutized(val, cwd);
        break;
      case 'target':
      case 'dst':
      case 'destination':
        mount.Target = val;
        break;
      case 'readonly':
      case 'ro':
        mount.ReadOnly = boolOf(key, val);
        break;
      case 'consistency':
        mount.Consistency = val.toLowerCase();
        break;
      case 'bind-propagation':
        bind().Propagation = val.toLowerCase() as NonNullable<Mount['BindOptions']>['Propagation'];
        break;
      case 'bind-nonrecursive':
        bind().NonRecursive = boolOf(key, val);
        break;
      case 'volume-nocopy':
        volume().NoCopy = boolOf(key, val);
        break;
      case 'volume-label': {
        const [k = '', v = ''] = val.split(/=(.*)/s, 2);
        volume().Labels = { ...volume().Labels, [k]: v };
        break;
      }
      case 'volume-driver':
        volume().DriverConfig = { ...volume().DriverConfig, Name: val };
        break;
      case 'volume-opt': {
        const [k = '', v = ''] = val.split(/=(.*)/s, 2);
        const driver = volume().DriverConfig ?? {};
        volume().DriverConfig = { ...driver, Options: { ...driver.Options, [k]: v } };
        break;
      }
      case 'volume-subpath':
        volume().Subpath = val;
        break;
      case 'tmpfs-size':
        try {
          tmpfs().SizeBytes = ramInBytes(val);
        } catch {
          throw new Error(`invalid value for ${key}: ${val}`);
        }
        break;
      case 'tmpfs-mode':
        if (!/^[0-7]+$/.test(val) || Number.parseInt(val, 8) > 0xffffffff)
          throw new Error(`invalid value for ${key}: ${val}`);
        tmpfs().Mode = Number.parseInt(val, 8);
        break;
      default:
        throw new Error(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (!mount.Type) throw new Error('type is required');
  if (!mount.Target) throw new Error('target is required');
  if (mount.VolumeOptions && mount.Type !== 'volume')
    throw new Error(`cannot mix 'volume-*' options with mount type '${mount.Type}'`);
  if (mount.BindOptions && mount.Type !== 'bind')
    throw new Error(`cannot mix 'bind-*' options with mount type '${mount.Type}'`);
  if (mount.TmpfsOptions && mount.Type !== 'tmpfs')
    throw new Error(`cannot mix 'tmpfs-*' options with mount type '${mount.Type}'`);
  if (!['bind', 'volume', 'tmpfs'].includes(mount.Type))
    throw new Error(`mount type "${mount.Type}" is not supported (bind, volume, tmpfs)`);
  return mount;
}

/** opts.ValidateEnv: `VAR=value` as is, a bare `VAR` from the CLI's environment when it is set there. */
function validateEnv(text: string, env: RunFlagsContext['env']): string {
  const eq = text.indexOf('=');
  const key = eq < 0 ? text : text.slice(0, eq);
  if (key === '') throw new Error(`invalid environment variable: ${text}`);
  if (eq >= 0) return text;
  const value = env?.[key];
  return value === undefined ? text : `${key}=${value}`;
}

/** docker's parseKeyValueFile for --env-file (and --label-file). */
export function parseEnvFile(file: string, env: RunFlagsContext['env']): string[] {
  let text: string;
  try {
    text = readFileSync(path.resolve(currentIo().cwd, file), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`open ${file}: ${code === 'ENOENT' ? 'no such file or directory' : code}`, {
      cause: err,
    });
  }
  const out: string[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split('\n')
    .forEach((raw, i) => {
      if (raw.includes('\uFFFD'))
        throw new Error(`env file ${file} contains invalid utf8 bytes at line ${i + 1}`);
      const line = raw.replace(/\r$/, '').trimStart();
      if (line === '' || line.startsWith('#')) return;
      const eq = line.indexOf('=');
      const variable = (eq < 0 ? line : line.slice(0, eq)).trimStart();
      if (/\s/.test(variable))
        throw new Error(`poorly formatted environment: variable '${variable}' contains whitespaces`);
      if (variable === '')
        throw new Error(`poorly formatted environment: no variable name on line '${line}'`);
      if (eq >= 0) out.push(`${variable}=${line.slice(eq + 1)}`);
      else if (env?.[variable.trim()] !== undefined) out.push(`${variable.trim()}=${env[variable.trim()]}`);
    });
  return out;
}

/** opts.ValidateSysctl: only the namespaced sysctls (IPC, net, mqueue) a container may set. */
function validateSysctl(text: string): [string, string] {
  const parts = text.split('=');
  const key = parts[0]!;
  if (parts.length < 2 || !isNamespacedSysctl(key)) throw new Error(`sysctl '${text}' is not allowed`);
  return [key, text.slice(key.length + 1)];
}

/** `-v`: docker's own parse, keeping the text verbatim; anonymous `-v /path` returns its path. */
function parseVolumeFlag(text: string, cwd: string): { bind?: string; anonymous?: string } {
  const parts = text.split(':');
  if (parts.some((p) => p === '')) throw new Error(`invalid spec: ${text}: empty section between colons`);
  if (parts.length > 3) throw new Error(`invalid spec: ${text}: too many colons`);
  if (parts.length === 1) return { anonymous: text };
  const [host = '', ...rest] = parts;
  // As docker: a relative host path ("./data") is made absolute here; "data" names a volume.
  const source = !host.startsWith('/') && host.startsWith('.') ? path.resolve(cwd, host) : host;
  return { bind: [source, ...rest].join(':') };
}

/** parseDevice / ValidateDevice: `/dev/x[:/dev/y][:rwm]`. */
function parseDevice(text: string): NonNullable<HostConfig['Devices']>[number] {
  const parts = text.split(':');
  const validMode = (m: string) => m !== '' && [...m].every((c) => 'rwm'.includes(c)) && m.length <= 3;
  let src = parts[0]!;
  let dst = src;
  let perms = 'rwm';
  if (parts.length === 3) {
    [src, dst, perms] = parts as [string, string, string];
  } else if (parts.length === 2) {
    if (validMode(parts[1]!)) perms = parts[1]!;
    else dst = parts[1]!;
  } else if (parts.length > 3) throw new Error(`invalid device specification: ${text}`);
  if (!validMode(perms)) throw new Error(`bad mode specified: ${perms}`);
  if (!dst.startsWith('/')) throw new Error(`bad format for path: ${dst}`);
  return { PathOnHost: src, PathInContainer: dst, CgroupPermissions: perms };
}

/** docker CLI's parseSecurityOpts: a seccomp profile file is sent as its (compacted) JSON. */
function parseSecurityOpt(text: string): string {
  let sep = text.indexOf('=');
  if (sep < 0 && text !== 'no-new-privileges') sep = text.indexOf(':');
  const key = sep < 0 ? text : text.slice(0, sep);
  const value = sep < 0 ? '' : text.slice(sep + 1);
  if ((sep < 0 || value === '') && key !== 'no-new-privileges')
    throw new Error(`Invalid --security-opt: ${JSON.stringify(text)}`);
  if (key !== 'seccomp' || value === 'builtin' || value === 'unconfined') return text;
  let content: string;
  try {
    content = readFileSync(path.resolve(currentIo().cwd, value), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      `opening seccomp profile (${value}) failed: open ${value}: ${code === 'ENOENT' ? 'no such file or directory' : code}`,
    );
  }
  try {
    return `seccomp=${JSON.stringify(JSON.parse(content))}`;
  } catch (err) {
    throw new Error(`compacting json for seccomp profile (${value}) failed: ${(err as Error).message}`);
  }
}

const ATTACH_STREAMS = new Set(['stdin', 'stdout', 'stderr']);

/** `KEY=value` entries as a map; a bare key maps to "" (opts.ConvertKVStringsToMap). */
function kvMap(entries: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of entries) {
    const eq = e.indexOf('=');
    out[eq < 0 ? e : e.slice(0, eq)] = eq < 0 ? '' : e.slice(eq + 1);
  }
  return out;
}

/** `IMAGE [COMMAND] [ARG...]` with its flags, as docker's run/create parse() builds the API request. */
export function parseRunFlags(parsed: ParsedArgs, context: RunFlagsContext = { verb: 'run' }): RunFlags {
  try {
    return translate(parsed, context);
  } catch (err) {
    const help = `See 'skiff ${context.verb} --help'.`;
    if (err instanceof FlagValueError) throw new StatusError(`${err.message}\n${help}`, EXIT_USAGE);
    const message = (err as Error).message;
    // docker run reports its own parse errors as "docker: <error>." ; create returns them as they are.
    const text =
      context.verb === 'run' ? `skiff: ${message.replace(/\.$/, '')}.\n${help}` : `${message}\n${help}`;
    throw new StatusError(text, EXIT_USAGE);
  }
}

function translate(parsed: ParsedArgs, context: RunFlagsContext): RunFlags {
  const f = parsed.flags;
  const env = context.env ?? currentIo().env;
  const cwd = context.cwd ?? currentIo().cwd;
  const strings = (name: string) => (f[name] as string[] | undefined) ?? [];
  const text = (name: string) => f[name] as string | undefined;
  const bytes = (name: string) => {
    const v = text(name);
    return v === undefined ? undefined : checked(name, v, ramInBytes);
  };
  const int = (name: string) => {
    const v = text(name);
    return v === undefined ? undefined : checked(name, v, parseInt64);
  };

  const [image, ...command] = parsed.args;
  if (!image) throw new Error(`"skiff ${context.verb}" requires at least 1 argument.`);

  const attach = strings('attach').map((a) =>
    checked('attach', a, (v) => {
      if (!ATTACH_STREAMS.has(v.toLowerCase())) throw new Error('valid streams are STDIN, STDOUT and STDERR');
      return v.toLowerCase();
    }),
  );
  const envList = strings('env').map((e) => checked('env', e, (v) => validateEnv(v, env)));
  const fileEnv = strings('env-file').flatMap((file) => parseEnvFile(file, env));
  const labels = strings('label').map((l) =>
    checked('label', l, (v) => {
      const key = v.split('=', 1)[0]!.trim();
      if (key === '') throw new Error(`invalid label '${v}': empty name`);
      if (/\s/.test(key)) throw new Error(`label '${key}' contains whitespaces`);
      return v;
    }),
  );
  const mounts = strings('mount').map((m) => checked('mount', m, (v) => parseMount(v, cwd)));
  const sysctls = Object.fromEntries(strings('sysctl').map((s) => checked('sysctl', s, validateSysctl)));
  const ulimits = new Map<string, Ulimit>();
  for (const u of strings('ulimit')) {
    const parsedUlimit = checked('ulimit', u, parseUlimit);
    ulimits.set(parsedUlimit.Name!, parsedUlimit);
  }
  const memory = bytes('memory');
  const memoryReservation = bytes('memory-reservation');
  const swapText = text('memory-swap');
  const memorySwap =
    swapText === undefined
      ? undefined
      : swapText === '-1'
        ? -1
        : checked('memory-swap', swapText, ramInBytes);
  const shmSize = bytes('shm-size');
  const cpus = text('cpus');
  const nanoCpus = cpus === undefined ? undefined : checked('cpus', cpus, parseNanoCpus);
  const cpuShares = int('cpu-shares');
  const pidsLimit = int('pids-limit');
  const stopTimeout = int('stop-timeout');

  const pull = text('pull') ?? 'missing';
  if (pull !== 'missing' && pull !== 'always' && pull !== 'never')
    throw new Error(`invalid pull option: '${pull}': must be one of "always", "missing" or "never"`);

  const binds: string[] = [];
  const volumes: Record<string, Record<string, never>> = {};
  for (const v of strings('volume')) {
    const parsedVolume = parseVolumeFlag(v, cwd);
    if (parsedVolume.bind) binds.push(parsedVolume.bind);
    else volumes[parsedVolume.anonymous!] = {};
  }
  const tmpfs: Record<string, string> = {};
  for (const t of strings('tmpfs')) {
    const colon = t.indexOf(':');
    tmpfs[colon < 0 ? t : t.slice(0, colon)] = colon < 0 ? '' : t.slice(colon + 1);
  }
  const devices = strings('device').map(parseDevice);
  let securityOpt = strings('security-opt').map(parseSecurityOpt);
  // docker's parseSystemPaths: systempaths=unconfined empties the masked and read-only path lists.
  const unconfinedPaths = securityOpt.includes('systempaths=unconfined');
  securityOpt = securityOpt.filter((o) => o !== 'systempaths=unconfined');

  const logDriver = text('log-driver') ?? 'json-file';
  const logOpts = strings('log-opt');
  if (logDriver === 'none' && logOpts.length > 0)
    throw new Error(`invalid logging opts for driver ${logDriver}`);
  const logConfig = { Type: logDriver, Config: kvMap(logOpts) };
  logOptions(logConfig);

  const restartText = text('restart');
  const restartPolicy =
    restartText === undefined
      ? { Name: 'no' as const, MaximumRetryCount: 0 }
      : parseRestartPolicy(restartText);
  // docker's CLI refuses the pair before asking the daemon.
  if (f.rm === true && restartPolicy.Name !== 'no' && restartPolicy.Name !== '')
    throw new Error('conflicting options: cannot specify both --restart and --rm');

  const networkMode = text('network') ?? text('net') ?? 'default';
  networkModeOf({ NetworkMode: networkMode });
  const net = parseNetworkFlags(strings, f['publish-all'] === true);
  const endpoints = endpointsConfig(networkMode, text('ip'), strings('network-alias'));

  const detach = context.verb === 'run' && f.detach === true;
  if (detach && attach.length > 0) throw new Error('Conflicting options: -a and -d');
  const interactive = f.interactive === true;
  const tty = f.tty === true;
  let attachStdin = attach.includes('stdin') || interactive;
  let attachStdout = attach.length === 0 || attach.includes('stdout');
  let attachStderr = attach.length === 0 || attach.includes('stderr');
  if (detach) attachStdin = attachStdout = attachStderr = false;
  const entrypointText = text('entrypoint');
  const healthcheck = healthConfig(f, checked);

  const config: ContainerConfig = {
    Hostname: text('hostname') ?? '',
    Domainname: '',
    User: text('user') ?? '',
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
    Tty: tty,
    OpenStdin: interactive,
    StdinOnce: context.verb === 'run' && interactive && attachStdin,
    Env: [...fileEnv, ...envList],
    Cmd: command.length > 0 ? command : null,
    Image: image,
    Volumes: Object.keys(volumes).length > 0 ? volumes : null,
    WorkingDir: text('workdir') ?? '',
    // `--entrypoint ""` resets the image's entrypoint: docker sends [""].
    Entrypoint: entrypointText === undefined ? null : [entrypointText],
    Labels: kvMap(labels),
    ...(Object.keys(net.exposed).length > 0 && { ExposedPorts: net.exposed }),
    ...(text('stop-signal') !== undefined && { StopSignal: text('stop-signal')! }),
    ...(stopTimeout !== undefined && { StopTimeout: stopTimeout }),
    ...(healthcheck && { Healthcheck: healthcheck }),
  };
  const hostConfig: HostConfig = {
    Binds: binds.length > 0 ? binds : null,
    LogConfig: logConfig,
    NetworkMode: networkMode,
    PortBindings: net.portBindings,
    PublishAllPorts: net.publishAll,
    ...(net.extraHosts.length > 0 && { ExtraHosts: net.extraHosts }),
    ...(net.dns.length > 0 && { Dns: net.dns }),
    ...(net.dnsOptions.length > 0 && { DnsOptions: net.dnsOptions }),
    ...(net.dnsSearch.length > 0 && { DnsSearch: net.dnsSearch }),
    RestartPolicy: restartPolicy,
    AutoRemove: f.rm === true,
    Mounts: mounts.length > 0 ? mounts : null,
    CapAdd: strings('cap-add').length > 0 ? strings('cap-add') : null,
    CapDrop: strings('cap-drop').length > 0 ? strings('cap-drop') : null,
    Privileged: f.privileged === true,
    ReadonlyRootfs: f['read-only'] === true,
    SecurityOpt: securityOpt.length > 0 ? securityOpt : null,
    Tmpfs: Object.keys(tmpfs).length > 0 ? tmpfs : null,
    ShmSize: shmSize ?? 0,
    Sysctls: Object.keys(sysctls).length > 0 ? sysctls : null,
    ...(unconfinedPaths && { MaskedPaths: [], ReadonlyPaths: [] }),
    Memory: memory ?? 0,
    MemoryReservation: memoryReservation ?? 0,
    MemorySwap: memorySwap ?? 0,
    NanoCpus: nanoCpus ?? 0,
    CpuShares: cpuShares ?? 0,
    CpusetCpus: text('cpuset-cpus') ?? '',
    PidsLimit: pidsLimit ?? null,
    Devices: devices,
    Ulimits: [...ulimits.values()],
    ...(f.init !== undefined && { Init: f.init === true }),
  };
  const name = text('name');
  return {
    ...(name !== undefined && { name }),
    image,
    config,
    hostConfig,
    pull,
    detach,
    interactive,
    tty,
    autoRemove: f.rm === true,
    sigProxy: f['sig-proxy'] !== false,
    ...(endpoints && { networking: { EndpointsConfig: endpoints } }),
  };
}
