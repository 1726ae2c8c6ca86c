/**
 * Credentials shared with the docker CLI: `auths` entries of ~/.docker/config.json (or
 * $DOCKER_CONFIG/config.json), whose `auth` field is base64 of `user:password`. Credential helpers
 * (`credsStore`, `credHelpers`) are not read yet.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { hasErrno, invalidArgument, syscallError } from '../../common/index.ts';
import { DEFAULT_DOMAIN } from '../reference.ts';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

export function dockerConfigPath(): string {
  const dir = process.env.DOCKER_CONFIG || path.join(homedir(), '.docker');
  return path.join(dir, 'config.json');
}

/** The keys docker itself writes for a domain (docker.io is stored under its legacy index URL). */
function keysFor(domain: string): string[] {
  if (domain === DEFAULT_DOMAIN)
    return ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io'];
  return [domain, `https://${domain}`, `http://${domain}`, `https://${domain}/v1/`, `https://${domain}/v2/`];
}

/** The user and password for domain from the docker config file, if it has them. */
export async function credentialsFor(
  domain: string,
  file = dockerConfigPath(),
): Promise<Credentials | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) return undefined;
    throw syscallError('read', file, err);
  }
  let config: { auths?: Record<string, { auth?: string; username?: string; password?: string }> };
  try {
    config = JSON.parse(text);
  } catch (err) {
    throw invalidArgument(`${file}: not valid JSON: ${(err as Error).message}`, err);
  }
  for (const key of keysFor(domain)) {
    const entry = config.auths?.[key];
    if (!entry) continue;
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw invalidArgument(`${file}: auths["${key}"].auth is not base64 of user:password`);
      return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    if (entry.username !== undefined && entry.password !== undefined)
      return { username: entry.username, password: entry.password };
  }
  return undefined;
}
