/**
 * `login` / `logout`: credentials are checked against the registry's /v2/ (HTTP Basic, or a token
 * request for Bearer), then written to the `auths` of the docker config file as docker writes them
 * (base64 `user:password` under the server's key; docker.io under its legacy index URL), keeping
 * every other key of the file. The file is created 0600 and replaced atomically (rename).
 * Credential helpers (`credsStore`, `credHelpers`) are refused: skiff does not run them yet.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { hasErrno, invalidArgument, SkiffError, syscallError } from '../../common/index.ts';
import { DEFAULT_DOMAIN } from '../reference.ts';
import { RegistryClient, RegistryError } from './client.ts';
import { type Credentials, dockerConfigPath } from './credentials.ts';
import { endpointFor } from './endpoint.ts';

export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

/** The registry domain a login SERVER argument names: `https://host:5000/v2/` → `host:5000`. */
export function loginDomain(server: string | undefined): string {
  if (!server) return DEFAULT_DOMAIN;
  const host = server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  if (!host) throw invalidArgument(`invalid registry address "${server}"`);
  return ['index.docker.io', 'registry-1.docker.io', 'docker.io'].includes(host) ? DEFAULT_DOMAIN : host;
}

/** The `auths` key docker writes for a domain. */
export function authKey(domain: string): string {
  return domain === DEFAULT_DOMAIN ? DOCKER_HUB_KEY : domain;
}

/** GET /v2/ with the credentials: resolves when the registry accepts them. */
export async function checkLogin(domain: string, credentials: Credentials): Promise<void> {
  const endpoint = endpointFor(domain);
  const client = new RegistryClient(endpoint, '', credentials);
  const url = `${endpoint.base}/v2/`;
  try {
    const response = await client.request('GET', url);
    await response.body?.cancel();
  } catch (err) {
    if (err instanceof RegistryError && err.status === 401) {
      // docker's words, then what the registry (or its token issuer) said.
      const said = err.errors.map((e) => e.message).join('; ');
      throw new SkiffError(
        'FailedPrecondition',
        `login attempt to ${url} failed with status: 401 Unauthorized${said ? `: ${said}` : ''}`,
        { cause: err },
      );
    }
    throw err;
  }
}

type Config = Record<string, unknown> & { auths?: Record<string, unknown> };

async function readConfig(file: string): Promise<Config> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) return {};
    throw syscallError('read', file, err);
  }
  try {
    const config = JSON.parse(text) as unknown;
    if (typeof config !== 'object' || config === null || Array.isArray(config))
      throw new Error('not an object');
    return config as Config;
  } catch (err) {
    throw invalidArgument(`${file}: not valid JSON: ${(err as Error).message}`, err);
  }
}

/** Refuses a config whose credentials for domain live in a helper skiff cannot run. */
function refuseHelpers(config: Config, domain: string, file: string): void {
  const helpers = config.credHelpers as Record<string, unknown> | undefined;
  if (config.credsStore || helpers?.[authKey(domain)] || helpers?.[domain])
    throw new SkiffError(
      'FailedPrecondition',
      `${file}: credential helpers are not supported yet (credsStore / credHelpers)`,
    );
}

/** Writes file as a whole: a temporary file beside it (0600), then rename over it. */
async function writeConfig(file: string, config: Config): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temp, `${JSON.stringify(config, null, '\t')}\n`, { mode: 0o600 });
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw syscallError('write', file, err);
  }
}

/** Records credentials for domain in the docker config file. */
export async function saveLogin(
  domain: string,
  credentials: Credentials,
  file = dockerConfigPath(),
): Promise<void> {
  const config = await readConfig(file);
  refuseHelpers(config, domain, file);
  const auth = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
  config.auths = { ...(config.auths ?? {}), [authKey(domain)]: { auth } };
  await writeConfig(file, config);
}

/** Removes domain's entry; false when there was none. */
export async function removeLogin(domain: string, file = dockerConfigPath()): Promise<boolean> {
  const config = await readConfig(file);
  refuseHelpers(config, domain, file);
  const key = authKey(domain);
  if (!config.auths || !(key in config.auths)) return false;
  delete config.auths[key];
  await writeConfig(file, config);
  return true;
}
