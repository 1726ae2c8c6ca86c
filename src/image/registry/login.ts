/**
 * `login` / `logout`: credentials are checked against the registry's /v2/ (HTTP Basic, or a token
 * request for Bearer), then written to the `auths` of the docker config file as docker writes them
 * (base64 `user:password` under the server's key; docker.io under its legacy index URL), keeping
 * every other key of the file. The file is created 0600 and replaced atomically (rename).
 * When a credential helper answers for the registry (`credHelpers`, `credsStore`), the secret goes to
 * it (`store` / `erase`) and `auths` keeps only an empty entry naming the server, as docker does.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { invalidArgument, SkiffError, syscallError } from '../../common/index.ts';
import { DEFAULT_DOMAIN } from '../reference.ts';
import { RegistryClient, RegistryError } from './client.ts';
import { helperErase, helperStore } from './cred-helper.ts';
import {
  authKey,
  type Credentials,
  credentialHelperFor,
  type DockerConfig,
  dockerConfigPath,
  readDockerConfig,
} from './credentials.ts';
import { endpointFor } from './endpoint.ts';

export { authKey, DOCKER_HUB_KEY } from './credentials.ts';

/** The registry domain a login SERVER argument names: `https://host:5000/v2/` → `host:5000`. */
export function loginDomain(server: string | undefined): string {
  if (!server) return DEFAULT_DOMAIN;
  const host = server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  if (!host) throw invalidArgument(`invalid registry address "${server}"`);
  return ['index.docker.io', 'registry-1.docker.io', 'docker.io'].includes(host) ? DEFAULT_DOMAIN : host;
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

/** Writes file as a whole: a temporary file beside it (0600), then rename over it. */
async function writeConfig(file: string, config: DockerConfig): Promise<void> {
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

/** Records credentials for domain: in its credential helper if it has one, else in `auths`. */
export async function saveLogin(
  domain: string,
  credentials: Credentials,
  file = dockerConfigPath(),
): Promise<void> {
  const config = await readDockerConfig(file);
  const helper = credentialHelperFor(config, domain, file);
  const key = authKey(domain);
  if (helper) {
    await helperStore(helper, {
      serverURL: key,
      username: credentials.username,
      secret: credentials.password,
    });
    config.auths = { ...(config.auths ?? {}), [key]: {} };
  } else {
    const auth = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
    config.auths = { ...(config.auths ?? {}), [key]: { auth } };
  }
  await writeConfig(file, config);
}

/** Removes domain's entry (from its credential helper too); false when there was none. */
export async function removeLogin(domain: string, file = dockerConfigPath()): Promise<boolean> {
  const config = await readDockerConfig(file);
  const helper = credentialHelperFor(config, domain, file);
  const key = authKey(domain);
  const erased = helper ? await helperErase(helper, key) : false;
  if (!config.auths || !(key in config.auths)) return erased;
  delete config.auths[key];
  await writeConfig(file, config);
  return true;
}
