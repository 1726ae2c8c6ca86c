/**
 * TLS towards one host as docker's certs.d lays it out: `<certsDir>/<host[:port]>/*.crt` are CAs
 * trusted for that host besides the default ones (Node's Mozilla bundle, NODE_EXTRA_CA_CERTS and the
 * system store), and each `NAME.cert` with its `NAME.key` is a client certificate. Node's fetch takes those only through an undici dispatcher; undici is loaded
 * (from node_modules, outside the bundle) only for a host that has such files, so that every other
 * request pays nothing for it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Dispatcher } from 'undici';
import { hasErrno, invalidArgument, syscallError } from '../../common/index.ts';
import { registriesConfig } from './config.ts';

export interface CertsFiles {
  /** The certs.d directories for the host that exist. */
  readonly dirs: readonly string[];
  readonly cas: readonly string[];
  readonly pairs: ReadonlyArray<{ readonly cert: string; readonly key: string }>;
}

/** Whether a certs.d directory exists for host in one of dirs. */
export function hasCertsDir(host: string, dirs: readonly string[]): boolean {
  return dirs.some((dir) => existsSync(path.join(dir, host)));
}

/** The CA and client certificate files for host (undefined: no certs.d directory for it). */
export function certsFilesFor(host: string, dirs: readonly string[]): CertsFiles | undefined {
  const found: string[] = [];
  const cas: string[] = [];
  const pairs: Array<{ cert: string; key: string }> = [];
  for (const base of dirs) {
    const dir = path.join(base, host);
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch (err) {
      if (hasErrno(err, 'ENOENT', 'ENOTDIR')) continue;
      throw syscallError('read certs.d directory', dir, err);
    }
    found.push(dir);
    for (const name of names) {
      const file = path.join(dir, name);
      if (name.endsWith('.crt')) cas.push(file);
      else if (name.endsWith('.cert')) {
        const key = `${name.slice(0, -'.cert'.length)}.key`;
        if (!names.includes(key))
          throw invalidArgument(`${dir}: missing key ${key} for client certificate ${name}`);
        pairs.push({ cert: file, key: path.join(dir, key) });
      } else if (name.endsWith('.key') && !names.includes(`${name.slice(0, -'.key'.length)}.cert`))
        throw invalidArgument(`${dir}: missing client certificate ${name.slice(0, -4)}.cert for key ${name}`);
    }
  }
  return found.length > 0 ? { dirs: found, cas, pairs } : undefined;
}

const dispatchers = new Map<string, Promise<Dispatcher | undefined>>();

/**
 * The dispatcher fetch must use for an https URL's host; undefined when Node's defaults do (no
 * certs.d files for it, or plain HTTP).
 */
export function dispatcherFor(url: string | URL): Promise<Dispatcher | undefined> {
  const parsed = typeof url === 'string' ? new URL(url) : url;
  if (parsed.protocol !== 'https:') return Promise.resolve(undefined);
  let dispatcher = dispatchers.get(parsed.host);
  if (!dispatcher) {
    dispatcher = trustSystemCAs().then(() => makeDispatcher(parsed.host));
    dispatchers.set(parsed.host, dispatcher);
  }
  return dispatcher;
}

let systemCAs: Promise<void> | undefined;

/**
 * Adds the system's CA store (/etc/ssl/certs, or $SSL_CERT_FILE / $SSL_CERT_DIR) to Node's default
 * CAs, as docker trusts the system pool: an administrator's CA added with update-ca-certificates is
 * trusted. Once per process, at its first HTTPS request: reading the store takes ~100 ms, which
 * plain-HTTP (loopback) pulls do not pay.
 */
function trustSystemCAs(): Promise<void> {
  systemCAs ??= import('node:tls').then((tls) => {
    const system = tls.getCACertificates('system');
    if (system.length > 0)
      tls.setDefaultCACertificates([...new Set([...tls.getCACertificates('default'), ...system])]);
  });
  return systemCAs;
}

async function makeDispatcher(host: string): Promise<Dispatcher | undefined> {
  const files = certsFilesFor(host, registriesConfig().certsDirs);
  if (!files || (files.cas.length === 0 && files.pairs.length === 0)) return undefined;
  const read = (file: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw syscallError('read certificate', file, err);
    }
  };
  // Loaded here: node:tls is not needed by a process that never speaks TLS through certs.d.
  const { getCACertificates } = await import('node:tls');
  const connect = {
    // A ca list replaces Node's trusted set: the defaults stay trusted beside the registry's own.
    ...(files.cas.length > 0 ? { ca: [...getCACertificates('default'), ...files.cas.map(read)] } : {}),
    ...(files.pairs.length > 0
      ? { cert: files.pairs.map((p) => read(p.cert)), key: files.pairs.map((p) => read(p.key)) }
      : {}),
  };
  // Only the Agent, not undici's index (which loads its own fetch too: ~170 ms against ~25 ms).
  const specifier = 'undici/lib/dispatcher/agent.js';
  const { default: Agent } = (await import(specifier)) as { default: typeof import('undici').Agent };
  return new Agent({ connect });
}

/** The certs.d directories where host's CA and client certificate would be read. */
export function certsDirsFor(host: string): string[] {
  return registriesConfig().certsDirs.map((dir) => path.join(dir, host));
}

/** What to tell a person whose TLS towards host failed: where its CA goes, or how to skip TLS. */
export function tlsAdvice(host: string): string {
  const cas = certsDirsFor(host).map((dir) => `${dir}/ca.crt`);
  return `to trust its CA put the CA certificate in ${cas.join(' or ')}, or list "${host}" under "insecure" in ${registriesConfig().file} to use plain HTTP`;
}
