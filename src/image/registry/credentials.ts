/**
 * Credentials shared with the docker CLI, read as docker reads ~/.docker/config.json (or
 * $DOCKER_CONFIG/config.json): a credential helper named for the registry in `credHelpers`, else the
 * `credsStore` helper, answers for it (docker-credential-NAME get); without a helper, the `auths`
 * entry, whose `auth` field is base64 of `user:password` (or whose `identitytoken` is an OAuth2
 * refresh token).
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { hasErrno, invalidArgument, syscallError } from '../../common/index.ts';
import { DEFAULT_DOMAIN } from '../reference.ts';
import { helperGet } from './cred-helper.ts';

export interface Credentials {
  readonly username: string;
  readonly password: string;
  /** An identity (OAuth2 refresh) token: exchanged at the token service instead of a password. */
  readonly identityToken?: string;
  /** Where they came from, for the error when the registry refuses them. */
  readonly source?: string;
}

/** The docker config file as a whole (only the keys skiff reads are typed). */
export type DockerConfig = Record<string, unknown> & {
  auths?: Record<string, unknown>;
  credsStore?: unknown;
  credHelpers?: unknown;
};

export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

export function dockerConfigPath(): string {
  const dir = process.env.DOCKER_CONFIG || path.join(homedir(), '.docker');
  return path.join(dir, 'config.json');
}

/** The `auths` key (and credential helper server URL) docker uses for a domain. */
export function authKey(domain: string): string {
  return domain === DEFAULT_DOMAIN ? DOCKER_HUB_KEY : domain;
}

/** The keys docker itself writes for a domain (docker.io is stored under its legacy index URL). */
function keysFor(domain: string): string[] {
  if (domain === DEFAULT_DOMAIN)
    return [DOCKER_HUB_KEY, 'index.docker.io', 'docker.io', 'registry-1.docker.io'];
  return [domain, `https://${domain}`, `http://${domain}`, `https://${domain}/v1/`, `https://${domain}/v2/`];
}

/** The parsed docker config file; {} when there is none. */
export async function readDockerConfig(file = dockerConfigPath()): Promise<DockerConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) return {};
    throw syscallError('read', file, err);
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (err) {
    throw invalidArgument(`${file}: not valid JSON: ${(err as Error).message}`, err);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config))
    throw invalidArgument(`${file}: not valid JSON: not an object`);
  return config as DockerConfig;
}

/**
 * The credential helper docker would run for domain: its `credHelpers` entry (keyed by host name,
 * as docker's ConvertToHostname makes it) or else `credsStore`.
 */
export function credentialHelperFor(config: DockerConfig, domain: string, file: string): string | undefined {
  const helpers = config.credHelpers;
  if (helpers !== undefined && (typeof helpers !== 'object' || helpers === null || Array.isArray(helpers)))
    throw invalidArgument(`${file}: "credHelpers" must be an object of registry → helper name`);
  for (const key of [...new Set([domain, ...keysFor(domain).map(hostOf)])]) {
    const name = (helpers as Record<string, unknown> | undefined)?.[key];
    if (name === undefined) continue;
    if (typeof name !== 'string' || name === '')
      throw invalidArgument(`${file}: credHelpers["${key}"] must be a helper name`);
    return name;
  }
  if (config.credsStore === undefined || config.credsStore === '') return undefined;
  if (typeof config.credsStore !== 'string') throw invalidArgument(`${file}: "credsStore" must be a string`);
  return config.credsStore;
}

/** `https://index.docker.io/v1/` → `index.docker.io` (docker's ConvertToHostname). */
function hostOf(key: string): string {
  return key.replace(/^https?:\/\//, '').split('/')[0]!;
}

/** The credentials for domain from the docker config file (or its helper), if it has them. */
export async function credentialsFor(
  domain: string,
  file = dockerConfigPath(),
): Promise<Credentials | undefined> {
  const config = await readDockerConfig(file);
  const helper = credentialHelperFor(config, domain, file);
  if (helper) {
    const got = await helperGet(helper, authKey(domain));
    if (!got) return undefined;
    const source = `credential helper docker-credential-${helper}`;
    return got.username === '<token>'
      ? { username: '', password: '', identityToken: got.secret, source }
      : { username: got.username, password: got.secret, source };
  }
  const auths = config.auths as
    | Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>
    | undefined;
  for (const key of keysFor(domain)) {
    const entry = auths?.[key];
    if (!entry) continue;
    const source = file;
    if (entry.identitytoken)
      return { username: entry.username ?? '', password: '', identityToken: entry.identitytoken, source };
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw invalidArgument(`${file}: auths["${key}"].auth is not base64 of user:password`);
      return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source };
    }
    if (entry.username !== undefined && entry.password !== undefined)
      return { username: entry.username, password: entry.password, source };
  }
  return undefined;
}
