/**
 * skiff's registry configuration: one JSON file, `/etc/skiff/registries.json` (or the file named by
 * $SKIFF_REGISTRIES_CONFIG), read once per process:
 *
 *   { "mirrors": { "docker.io": ["https://mirror.example.com", "http://127.0.0.1:5001"] },
 *     "insecure": ["myreg:5000"],
 *     "certsDir": ["/etc/skiff/certs.d", "/etc/docker/certs.d"] }
 *
 * mirrors: per registry domain, the places a pull tries first, in order (docker's registry-mirrors
 * for docker.io, podman's [[registry.mirror]] for any registry); an entry is a URL or host[:port],
 * optionally with a path that prefixes the repository (`mirror.example.com/hub`). insecure: registries
 * spoken to over plain HTTP (127.0.0.0/8, ::1 and localhost are anyway). certsDir: directories laid
 * out as docker's certs.d (`<dir>/<host:port>/*.crt` CAs, `*.cert` + `*.key` client certificates);
 * default both skiff's and docker's. A missing default file means no mirrors, no insecure registry.
 */
import { readFileSync } from 'node:fs';
import { hasErrno, invalidArgument, syscallError } from '../../common/index.ts';

export const DEFAULT_REGISTRIES_CONFIG = '/etc/skiff/registries.json';
export const DEFAULT_CERTS_DIRS: readonly string[] = ['/etc/skiff/certs.d', '/etc/docker/certs.d'];

export interface RegistriesConfig {
  /** The file read (or that would have been). */
  readonly file: string;
  readonly mirrors: Readonly<Record<string, readonly string[]>>;
  readonly insecure: readonly string[];
  readonly certsDirs: readonly string[];
}

export function registriesConfigPath(): string {
  return process.env.SKIFF_REGISTRIES_CONFIG || DEFAULT_REGISTRIES_CONFIG;
}

const cache = new Map<string, RegistriesConfig>();

/**
 * The configuration in file (cached: a pull consults it for every endpoint). Synchronous because
 * endpoints are resolved synchronously; it is one small file read once.
 */
export function registriesConfig(file = registriesConfigPath()): RegistriesConfig {
  let config = cache.get(file);
  if (!config) {
    config = readRegistriesConfig(file);
    cache.set(file, config);
  }
  return config;
}

function readRegistriesConfig(file: string): RegistriesConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    // Only the default may be absent: a file named explicitly that is not there is a mistake.
    if (hasErrno(err, 'ENOENT') && file === DEFAULT_REGISTRIES_CONFIG && !process.env.SKIFF_REGISTRIES_CONFIG)
      return { file, mirrors: {}, insecure: [], certsDirs: DEFAULT_CERTS_DIRS };
    throw syscallError('read registries config', file, err);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw invalidArgument(`${file}: not valid JSON: ${(err as Error).message}`, err);
  }
  return parseRegistriesConfig(raw, file);
}

/** Validates the parsed JSON, naming the field that is wrong. */
export function parseRegistriesConfig(raw: unknown, file: string): RegistriesConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw invalidArgument(`${file}: expected a JSON object`);
  const obj = raw as Record<string, unknown>;
  for (const key of Object.keys(obj))
    if (!['mirrors', 'insecure', 'certsDir'].includes(key))
      throw invalidArgument(`${file}: unknown field "${key}" (known: mirrors, insecure, certsDir)`);
  const mirrors: Record<string, string[]> = {};
  if (obj.mirrors !== undefined) {
    if (typeof obj.mirrors !== 'object' || obj.mirrors === null || Array.isArray(obj.mirrors))
      throw invalidArgument(`${file}: "mirrors" must be an object of registry → list of mirrors`);
    for (const [domain, list] of Object.entries(obj.mirrors))
      mirrors[domain] = stringList(list, `mirrors["${domain}"]`, file);
  }
  const insecure = obj.insecure === undefined ? [] : stringList(obj.insecure, 'insecure', file);
  const certsDirs =
    obj.certsDir === undefined
      ? DEFAULT_CERTS_DIRS
      : typeof obj.certsDir === 'string'
        ? [obj.certsDir]
        : stringList(obj.certsDir, 'certsDir', file);
  return { file, mirrors, insecure, certsDirs };
}

function stringList(value: unknown, field: string, file: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === ''))
    throw invalidArgument(`${file}: "${field}" must be a list of non-empty strings`);
  return value as string[];
}
