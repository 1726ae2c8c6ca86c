/**
 * A real registry for the tests: Debian's docker-registry (the CNCF distribution server) on a free
 * 127.0.0.1 port with its own temporary storage, optionally behind htpasswd Basic auth, stopped and
 * removed after the test. It never touches a system registry on :5000.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, randomUUID, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const TOKEN_SERVICE = 'skiff-test-registry';
export const TOKEN_ISSUER = 'skiff-test-issuer';

export interface TestRegistry {
  readonly port: number;
  /** `127.0.0.1:PORT` */
  readonly host: string;
  readonly dir: string;
}

/** A port nothing listens on now (the kernel's pick). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A bcrypt htpasswd line, made with python3's crypt (apache2-utils' htpasswd is not installed). */
export function htpasswdLine(user: string, password: string): string | undefined {
  const r = spawnSync(
    'python3',
    [
      '-W',
      'ignore',
      '-c',
      'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))',
      password,
    ],
    { encoding: 'utf8' },
  );
  const hash = r.stdout?.trim() ?? '';
  return r.status === 0 && /^\$2[aby]\$/.test(hash) ? `${user}:${hash}` : undefined;
}

export async function startRegistry(
  t: { after: (fn: () => void | Promise<void>) => void },
  options: {
    htpasswd?: string;
    token?: { realm: string; certFile: string };
    /** Serve HTTPS with this certificate; clientCAs: demand a client certificate signed by one. */
    tls?: { certificate: string; key: string; clientCAs?: string[] };
  } = {},
): Promise<TestRegistry> {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-registry-'));
  const port = await freePort();
  const auth = options.htpasswd
    ? `auth:\n  htpasswd:\n    realm: skiff-test\n    path: ${path.join(dir, 'htpasswd')}\n`
    : options.token
      ? `auth:\n  token:\n    realm: ${options.token.realm}\n    service: ${TOKEN_SERVICE}\n    issuer: ${TOKEN_ISSUER}\n    rootcertbundle: ${options.token.certFile}\n`
      : '';
  const tls = options.tls
    ? `  tls:\n    certificate: ${options.tls.certificate}\n    key: ${options.tls.key}\n${
        options.tls.clientCAs
          ? `    clientcas:\n${options.tls.clientCAs.map((f) => `      - ${f}\n`).join('')}`
          : ''
      }`
    : '';
  if (options.htpasswd) writeFileSync(path.join(dir, 'htpasswd'), `${options.htpasswd}\n`);
  writeFileSync(
    path.join(dir, 'config.yml'),
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${path.join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${tls}${auth}`,
  );
  const child: ChildProcess = spawn('docker-registry', ['serve', path.join(dir, 'config.yml')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  // Should the test process end without its after hooks (a timeout), the registry goes with it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  t.after(async () => {
    process.off('exit', killOnExit);
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const host = `127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${stderr}`);
    // An HTTPS registry answers once it accepts connections (its certificate is the test's to check).
    const up = options.tls
      ? await accepts(port)
      : await fetch(`http://${host}/v2/`).then(
          (r) => r.status === 200 || r.status === 401,
          () => false,
        );
    if (up) return { port, host, dir };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`docker-registry did not answer on ${host}: ${stderr}`);
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** What a token issuer of the tests does besides granting what is asked. */
export interface TokenIssuerOptions {
  /** expires_in of its answers (default 300); the JWT's exp follows it. */
  expiresIn?: number;
  /** The next N tokens it issues are expired already (the registry refuses them); counted down. */
  expiredTokens?: number;
  /** Accept this OAuth2 refresh token (POST grant_type=refresh_token), as an identity token. */
  refreshToken?: string;
  /** Grant only `pull`, whatever is asked. */
  readOnly?: boolean;
}

/**
 * A token issuer as Docker Hub's auth service: GET /token?service=&scope=repository:NAME:ACTIONS with
 * HTTP Basic user:password answers {token} — an RS256 JWT granting the asked actions, signed by a key
 * whose self-signed certificate the registry trusts (rootcertbundle), named by its libtrust key ID.
 */
export async function startTokenIssuer(
  t: { after: (fn: () => void | Promise<void>) => void },
  user: string,
  password: string,
  options: TokenIssuerOptions = {},
): Promise<{ realm: string; certFile: string; requests: string[] } | undefined> {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-token-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  const made = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      '/CN=skiff-token',
    ],
    { encoding: 'utf8' },
  );
  if (made.status !== 0) return undefined;
  const key = createPrivateKey(readFileSync(keyFile));
  const kid = libtrustKeyId(createPublicKey(key).export({ type: 'spki', format: 'der' }));
  const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const requests: string[] = [];
  const server = createHttpServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://issuer');
    let scopes = url.searchParams.getAll('scope');
    let service = url.searchParams.get('service');
    let accepted = req.headers.authorization === expected;
    if (req.method === 'POST') {
      // OAuth2: grant_type=refresh_token&refresh_token=…&service=…&scope=A B (space-separated).
      let text = '';
      for await (const chunk of req) text += chunk;
      const form = new URLSearchParams(text);
      scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
      service = form.get('service');
      accepted =
        form.get('grant_type') === 'refresh_token' &&
        options.refreshToken !== undefined &&
        form.get('refresh_token') === options.refreshToken;
      requests.push(`refresh ${scopes.join(' ')}`);
    } else requests.push(`${req.headers.authorization ? 'basic' : 'anonymous'} ${scopes[0] ?? ''}`);
    if (!accepted) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ details: 'incorrect username or password' }));
      return;
    }
    const access = scopes.map((scope) => {
      const [type, name, actions] = scope.split(':');
      const asked = (actions ?? '').split(',');
      return { type, name, actions: options.readOnly ? asked.filter((a) => a === 'pull') : asked };
    });
    const expiresIn = options.expiresIn ?? 300;
    // Expired beyond the registry's leeway (60 s), while expiredTokens lasts. The options are read
    // at each request, so that a test may change them between its steps.
    const expired = (options.expiredTokens ?? 0) > 0;
    if (expired) options.expiredTokens = (options.expiredTokens ?? 0) - 1;
    const now = Math.floor(Date.now() / 1000) - (expired ? 3600 : 0);
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const body = `${b64({ typ: 'JWT', alg: 'RS256', kid })}.${b64({
      iss: TOKEN_ISSUER,
      sub: user,
      aud: service,
      exp: now + expiresIn,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access,
    })}`;
    const token = `${body}.${sign('sha256', Buffer.from(body), key).toString('base64url')}`;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token, expires_in: expiresIn }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { realm: `http://127.0.0.1:${port}/token`, certFile, requests };
}

/** docker/libtrust's key ID: base32 of the first 240 bits of sha256(SPKI DER), in groups of four. */
function libtrustKeyId(spki: Buffer): string {
  const hash = createHash('sha256').update(spki).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const byte of hash) bits += byte.toString(2).padStart(8, '0');
  let out = '';
  for (let i = 0; i < bits.length; i += 5) out += alphabet[Number.parseInt(bits.slice(i, i + 5), 2)];
  return out.match(/.{4}/g)!.join(':');
}
