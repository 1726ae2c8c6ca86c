/**
 * CNI network configuration lists (../shared/specs/cni-spec.md, section 1), as an administrator
 * drops them into skiff's network config directory: `*.conflist` (a list) and `*.conf`/`*.json` (one
 * plugin configuration, which libcni also accepts as a list of one). Validation says which file and
 * which field is wrong; the plugins' own fields pass through untouched.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { hasErrno, invalidArgument, syscallError } from '../../common/index.ts';

/** One plugin configuration object: `type` plus whatever the plugin defines. */
export interface PluginConfig {
  readonly type: string;
  readonly capabilities?: Readonly<Record<string, boolean>>;
  readonly [key: string]: unknown;
}

export interface NetworkConfigList {
  readonly cniVersion: string;
  readonly cniVersions?: readonly string[];
  readonly name: string;
  readonly disableCheck?: boolean;
  readonly disableGC?: boolean;
  readonly plugins: readonly PluginConfig[];
  /** The file it was read from (for messages), when it came from one. */
  readonly source?: string;
  /** The exact bytes, cached with each attachment so DEL sees the configuration ADD used. */
  readonly bytes: string;
}

// Section 1: "Must start with an alphanumeric character, optionally followed by … alphanumeric
// characters, underscore, dot (.) or hyphen (-)".
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const SEMVER = /^\d+\.\d+\.\d+$/;
const RESERVED_KEYS = ['runtimeConfig', 'args', 'prevResult'];

/** Parses and validates a configuration list (or a single plugin configuration) from JSON text. */
export function parseConfigList(text: string, source = 'network configuration'): NetworkConfigList {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw invalidArgument(`${source}: not valid JSON: ${(err as Error).message}`, err);
  }
  if (!isObject(raw)) throw invalidArgument(`${source}: a network configuration must be a JSON object`);
  const plugins = 'plugins' in raw ? raw.plugins : 'type' in raw ? [singlePlugin(raw)] : undefined;
  if (!Array.isArray(plugins) || plugins.length === 0)
    throw invalidArgument(`${source}: \`plugins\` must be a non-empty list of plugin configurations`);
  const name = raw.name;
  if (typeof name !== 'string' || !NAME.test(name))
    throw invalidArgument(
      `${source}: \`name\` must start with a letter or digit, followed by letters, digits, \`_\`, \`.\` or \`-\` (got ${JSON.stringify(name)})`,
    );
  const cniVersion = raw.cniVersion;
  if (typeof cniVersion !== 'string' || !SEMVER.test(cniVersion))
    throw invalidArgument(
      `${source}: \`cniVersion\` must be a version like "1.0.0" (got ${JSON.stringify(cniVersion)})`,
    );
  const cniVersions = raw.cniVersions;
  if (
    cniVersions !== undefined &&
    (!Array.isArray(cniVersions) || !cniVersions.every((v) => typeof v === 'string' && SEMVER.test(v)))
  )
    throw invalidArgument(`${source}: \`cniVersions\` must be a list of versions like "1.0.0"`);
  for (const key of ['disableCheck', 'disableGC'] as const)
    if (raw[key] !== undefined && typeof raw[key] !== 'boolean')
      throw invalidArgument(`${source}: \`${key}\` must be true or false`);
  return {
    cniVersion,
    ...(cniVersions ? { cniVersions: cniVersions as string[] } : {}),
    name,
    ...(raw.disableCheck !== undefined ? { disableCheck: raw.disableCheck as boolean } : {}),
    ...(raw.disableGC !== undefined ? { disableGC: raw.disableGC as boolean } : {}),
    plugins: plugins.map((p, i) => checkPlugin(p, `${source}: plugins[${i}]`)),
    source,
    bytes: text,
  };
}

/** A single plugin configuration (`*.conf`) seen as a list: its name and version move up. */
function singlePlugin(raw: Record<string, unknown>): Record<string, unknown> {
  const { name: _name, cniVersion: _version, ...plugin } = raw;
  return plugin;
}

function checkPlugin(raw: unknown, where: string): PluginConfig {
  if (!isObject(raw)) throw invalidArgument(`${where}: a plugin configuration must be a JSON object`);
  if (typeof raw.type !== 'string' || !/^[^/\\\0]+$/.test(raw.type) || raw.type === '.' || raw.type === '..')
    throw invalidArgument(
      `${where}: \`type\` must name a plugin executable (no \`/\`), got ${JSON.stringify(raw.type)}`,
    );
  for (const key of RESERVED_KEYS)
    if (key in raw) throw invalidArgument(`${where}: \`${key}\` is reserved for the runtime; remove it`);
  if (raw.capabilities !== undefined) {
    if (!isObject(raw.capabilities) || !Object.values(raw.capabilities).every((v) => typeof v === 'boolean'))
      throw invalidArgument(`${where}: \`capabilities\` must map capability names to true or false`);
  }
  return raw as PluginConfig;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const CONFIG_EXTENSIONS = ['.conflist', '.conf', '.json'];

/**
 * The configuration lists in `dir` by network name, files in lexical order (libcni's order); a name
 * defined twice keeps its first file. An invalid file is an error naming it, not silently skipped:
 * an administrator who dropped it there wants to know. A missing directory holds no networks.
 */
export async function loadConfigLists(dir: string): Promise<Map<string, NetworkConfigList>> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => CONFIG_EXTENSIONS.includes(path.extname(f))).sort();
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) return new Map();
    throw syscallError('readdir', dir, err);
  }
  const lists = new Map<string, NetworkConfigList>();
  for (const file of files) {
    const full = path.join(dir, file);
    let text: string;
    try {
      text = await readFile(full, 'utf8');
    } catch (err) {
      throw syscallError('read', full, err);
    }
    const list = parseConfigList(text, full);
    if (!lists.has(list.name)) lists.set(list.name, list);
  }
  return lists;
}
