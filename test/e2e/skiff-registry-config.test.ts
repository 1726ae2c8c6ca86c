// Registry configuration and authentication against real registries (Debian's docker-registry on free
// 127.0.0.1 ports): TLS with a CA (and a client certificate) from a certs.d directory, refused
// clearly without it; mirrors tried before the registry; docker credential helpers (a real helper
// program on a PATH of the test's) for pull, login and logout; Bearer tokens that expire or are
// refused, fetched again once; `pull --all-tags` with the tags list's pagination. Every skiff call
// has its own DOCKER_CONFIG and SKIFF_REGISTRIES_CONFIG; nothing but 127.0.0.1 is contacted.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { endpointFor, listTagsAt, RegistryClient } from '../../src/image/index.ts';
import { importBusybox, SKIFF } from '../helpers/engine.ts';
import {
  freePort,
  htpasswdLine,
  startRegistry,
  startTokenIssuer,
  TOKEN_SERVICE,
  type TokenIssuerOptions,
} from '../helpers/registry.ts';
import { makeTestCerts } from '../helpers/tls.ts';

interface Result {
  status: number;
  stdout: string;
  stderr: string;
}

type After = { after: (fn: () => void | Promise<void>) => void };

function tempDir(t: After, prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A registries config file holding config. */
function registriesConfig(t: After, config: unknown): string {
  const file = path.join(tempDir(t, 'skiff-regcfg-'), 'registries.json');
  writeFileSync(file, JSON.stringify(config));
  return file;
}

/** An engine root of its own, a DOCKER_CONFIG of its own, and env for every skiff call. */
function engine(t: After, env: NodeJS.ProcessEnv = {}) {
  const root = mkdtempSync(path.join(tmpdir(), 'skiff-regcfg-root-'));
  const dockerConfig = tempDir(t, 'skiff-dockercfg-');
  const base = {
    ...process.env,
    SKIFF_ROOT: root,
    SKIFF_RUNROOT: path.join(root, 'run'),
    DOCKER_CONFIG: dockerConfig,
    // A missing default would do, but a machine's /etc/skiff must not change what these tests see.
    SKIFF_REGISTRIES_CONFIG: registriesConfig(t, { certsDir: [] }),
    ...env,
  };
  // Asynchronous: token issuers serve from this process meanwhile.
  const skiff = (
    args: string[],
    options: { input?: string; env?: NodeJS.ProcessEnv } = {},
  ): Promise<Result> =>
    new Promise((resolve) => {
      const child = spawn(SKIFF, args, { env: { ...base, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      child.stdin.end(options.input ?? '');
      child.on('close', (code) => resolve({ status: code ?? -1, stdout, stderr }));
    });
  t.after(() => rmSync(root, { recursive: true, force: true }));
  return { root, dockerConfig, configFile: path.join(dockerConfig, 'config.json'), skiff };
}

/** Pushes the busybox test image as each of refs (with env for the pushes). */
async function pushBusybox(t: After, refs: string[], env: NodeJS.ProcessEnv = {}, login?: string) {
  const e = engine(t, env);
  await importBusybox(e.root);
  if (login) {
    const r = await e.skiff(['login', '-u', 'skiff', '--password-stdin', login], { input: 's3cret\n' });
    assert.equal(r.status, 0, r.stderr);
  }
  for (const ref of refs) {
    const tagged = await e.skiff(['tag', 'busybox:latest', ref]);
    assert.equal(tagged.status, 0, tagged.stderr);
    const pushed = await e.skiff(['push', ref]);
    assert.equal(pushed.status, 0, pushed.stderr);
  }
}

/** A certs.d directory whose entry for host holds files (name → source file). */
function certsDir(t: After, host: string, files: Record<string, string>): string {
  const dir = tempDir(t, 'skiff-certsd-');
  mkdirSync(path.join(dir, host));
  for (const [name, from] of Object.entries(files)) copyFileSync(from, path.join(dir, host, name));
  return dir;
}

test('TLS: a registry whose CA is in certs.d is pushed to and pulled from; an unknown CA is refused clearly', async (t) => {
  const certs = makeTestCerts(t);
  if (!certs) {
    t.skip('openssl cannot make certificates here');
    return;
  }
  const registry = await startRegistry(t, { tls: { certificate: certs.serverCert, key: certs.serverKey } });
  const ref = `${registry.host}/tls/busybox:1`;
  const trusted = registriesConfig(t, { certsDir: certsDir(t, registry.host, { 'ca.crt': certs.caCert }) });
  await pushBusybox(t, [ref], { SKIFF_REGISTRIES_CONFIG: trusted });

  await t.test('pulled over TLS with the CA of certs.d', async () => {
    const { skiff } = engine(t, { SKIFF_REGISTRIES_CONFIG: trusted });
    const r = await skiff(['pull', ref]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Status: Downloaded newer image for ${ref}\n`));
  });

  await t.test('a CA that did not sign it: the registry named, certs.d and insecure suggested', async () => {
    const other = certsDir(t, registry.host, { 'ca.crt': certs.otherCaCert });
    const config = registriesConfig(t, { certsDir: other });
    const { skiff } = engine(t, { SKIFF_REGISTRIES_CONFIG: config });
    const r = await skiff(['pull', ref]);
    assert.equal(r.status, 1, r.stdout);
    assert.match(
      r.stderr,
      new RegExp(
        `registry ${registry.host}: .*TLS: the certificate of ${registry.host} is signed by an unknown authority`,
      ),
    );
    assert.ok(r.stderr.includes(`${path.join(other, registry.host)}/ca.crt`), r.stderr);
    assert.ok(r.stderr.includes(`list "${registry.host}" under "insecure" in ${config}`), r.stderr);
  });

  await t.test(
    'the system CA store is trusted too (here $SSL_CERT_FILE); an empty certs.d entry says TLS',
    async () => {
      const empty = tempDir(t, 'skiff-certsd-');
      mkdirSync(path.join(empty, registry.host));
      const config = registriesConfig(t, { certsDir: empty });
      const system = { SSL_CERT_FILE: certs.caCert, SSL_CERT_DIR: tempDir(t, 'skiff-sslcerts-') };
      const { skiff } = engine(t, { SKIFF_REGISTRIES_CONFIG: config });
      const r = await skiff(['pull', ref], { env: system });
      assert.equal(r.status, 0, r.stderr);
      const other = engine(t, { SKIFF_REGISTRIES_CONFIG: config });
      const refused = await other.skiff(['pull', ref], {
        env: { ...system, SSL_CERT_FILE: certs.otherCaCert },
      });
      assert.equal(refused.status, 1, refused.stdout);
      assert.match(refused.stderr, /is signed by an unknown authority/);
    },
  );

  await t.test(
    'no certs.d directory: plain HTTP to a loopback registry, which is said to speak HTTPS',
    async () => {
      const { skiff } = engine(t);
      const r = await skiff(['pull', ref]);
      assert.equal(r.status, 1, r.stdout);
      assert.match(
        r.stderr,
        new RegExp(`registry ${registry.host} speaks HTTPS, and skiff spoke plain HTTP to it`),
      );
    },
  );
});

test('TLS: a registry that demands a client certificate gets the one of certs.d', async (t) => {
  const certs = makeTestCerts(t);
  if (!certs) {
    t.skip('openssl cannot make certificates here');
    return;
  }
  const registry = await startRegistry(t, {
    tls: { certificate: certs.serverCert, key: certs.serverKey, clientCAs: [certs.caCert] },
  });
  const ref = `${registry.host}/mtls/busybox:1`;
  const full = registriesConfig(t, {
    certsDir: certsDir(t, registry.host, {
      'ca.crt': certs.caCert,
      'client.cert': certs.clientCert,
      'client.key': certs.clientKey,
    }),
  });
  await pushBusybox(t, [ref], { SKIFF_REGISTRIES_CONFIG: full });
  const pulled = await engine(t, { SKIFF_REGISTRIES_CONFIG: full }).skiff(['pull', ref]);
  assert.equal(pulled.status, 0, pulled.stderr);

  const caOnly = certsDir(t, registry.host, { 'ca.crt': certs.caCert });
  const { skiff } = engine(t, { SKIFF_REGISTRIES_CONFIG: registriesConfig(t, { certsDir: caOnly }) });
  const r = await skiff(['pull', ref]);
  assert.equal(r.status, 1, r.stdout);
  // TLS 1.3 lets the client finish its handshake; the server then closes (or alerts) for lack of one.
  assert.match(
    r.stderr,
    new RegExp(
      `registry ${registry.host}: .*TLS: ${registry.host} (closed the connection|refused the handshake)`,
    ),
  );
  assert.ok(
    r.stderr.includes(`put client.cert and client.key in ${path.join(caOnly, registry.host)}`),
    r.stderr,
  );

  // A key without its certificate is a mistake in certs.d, said as docker says it.
  const broken = certsDir(t, registry.host, { 'ca.crt': certs.caCert, 'client.key': certs.clientKey });
  const b = await engine(t, { SKIFF_REGISTRIES_CONFIG: registriesConfig(t, { certsDir: broken }) }).skiff([
    'pull',
    ref,
  ]);
  assert.equal(b.status, 1);
  assert.match(b.stderr, /missing client certificate client\.cert for key client\.key/);
});

test('mirrors: tried in order before the registry, with a path prefix; the registry’s error when all fail', async (t) => {
  const mirror = await startRegistry(t);
  const empty = await startRegistry(t);
  // The registry itself: nothing listens there, so a pull that works was served by a mirror.
  const upstream = `127.0.0.1:${await freePort()}`;
  await pushBusybox(t, [`${mirror.host}/busybox:1`, `${mirror.host}/cache/busybox:1`]);

  await t.test('a mirror lacking the image is passed over, the next one serves it', async () => {
    const config = registriesConfig(t, {
      certsDir: [],
      mirrors: { [upstream]: [`http://${empty.host}`, mirror.host] },
    });
    const { skiff } = engine(t, { SKIFF_REGISTRIES_CONFIG: config });
    const r = await skiff(['pull', `${upstream}/busybox:1`]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Status: Downloaded newer image for ${upstream}/busybox:1\n`));
    const run = await skiff(['image', 'inspect', '-f', '{{index .RepoTags 0}}', `${upstream}/busybox:1`]);
    assert.equal(run.stdout.trim(), `${upstream}/busybox:1`);
  });

  await t.test('a mirror with a path: repositories under it', async () => {
    const config = registriesConfig(t, { certsDir: [], mirrors: { [upstream]: [`${mirror.host}/cache`] } });
    const { skiff } = engine(t, { SKIFF_REGISTRIES_CONFIG: config });
    const r = await skiff(['pull', `${upstream}/busybox:1`]);
    assert.equal(r.status, 0, r.stderr);
  });

  await t.test('no mirror has it: the registry’s own error, and what the mirrors said', async () => {
    const config = registriesConfig(t, { certsDir: [], mirrors: { [upstream]: [`http://${empty.host}`] } });
    const { skiff } = engine(t, { SKIFF_REGISTRIES_CONFIG: config });
    const r = await skiff(['pull', `${upstream}/busybox:1`]);
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stderr, new RegExp(`registry ${upstream}: .*connection refused`));
    assert.match(
      r.stderr,
      new RegExp(`mirrors tried first: http://${empty.host}: manifest for .* not found`),
    );
  });

  await t.test('a config file with a mistake is refused naming the field', async () => {
    const config = registriesConfig(t, { mirrors: { [upstream]: 'http://x' } });
    const { skiff } = engine(t, { SKIFF_REGISTRIES_CONFIG: config });
    const r = await skiff(['pull', `${upstream}/busybox:1`]);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      new RegExp(`${config}: "mirrors\\["${upstream}"\\]" must be a list of non-empty strings`),
    );
  });
});

/** docker-credential-skifftest: each server's credentials in a file under $SKIFFTEST_STORE; a log. */
const HELPER = `#!/bin/sh
dir=\${SKIFFTEST_STORE:?}
input=$(cat)
key() { printf %s "$1" | od -An -tx1 | tr -d ' \\n'; }
case "$1" in
store)
  server=$(printf %s "$input" | sed -n 's/.*"ServerURL":"\\([^"]*\\)".*/\\1/p')
  echo "store $server" >>"$dir/log"
  printf %s "$input" >"$dir/$(key "$server")" ;;
get)
  echo "get $input" >>"$dir/log"
  if [ -f "$dir/$(key "$input")" ]; then cat "$dir/$(key "$input")"; else echo "credentials not found in native keychain"; exit 1; fi ;;
erase)
  echo "erase $input" >>"$dir/log"
  if [ -f "$dir/$(key "$input")" ]; then rm "$dir/$(key "$input")"; else echo "credentials not found in native keychain"; exit 1; fi ;;
*) echo "unknown action $1" >&2; exit 1 ;;
esac
`;

/** A PATH directory with the test helper and a broken one, and the helper's store. */
function credentialHelpers(t: After) {
  const bin = tempDir(t, 'skiff-credbin-');
  const store = tempDir(t, 'skiff-credstore-');
  writeFileSync(path.join(bin, 'docker-credential-skifftest'), HELPER);
  writeFileSync(
    path.join(bin, 'docker-credential-skiffbroken'),
    '#!/bin/sh\necho "keychain is locked" >&2\nexit 3\n',
  );
  chmodSync(path.join(bin, 'docker-credential-skifftest'), 0o755);
  chmodSync(path.join(bin, 'docker-credential-skiffbroken'), 0o755);
  const entry = (server: string) => path.join(store, Buffer.from(server).toString('hex'));
  const log = () => {
    try {
      return readFileSync(path.join(store, 'log'), 'utf8').split('\n').filter(Boolean);
    } catch {
      return [];
    }
  };
  return { env: { PATH: `${bin}:${process.env.PATH}`, SKIFFTEST_STORE: store }, store, entry, log };
}

test('credential helpers: login stores through the helper, pull gets from it, logout erases', async (t) => {
  const issuerOptions: TokenIssuerOptions = { refreshToken: 'refresh-me' };
  const issuer = await startTokenIssuer(t, 'skiff', 's3cret', issuerOptions);
  if (!issuer) {
    t.skip('no openssl to make the token issuer’s key');
    return;
  }
  const registry = await startRegistry(t, { token: issuer });
  const ref = `${registry.host}/helped/busybox:1`;
  const helpers = credentialHelpers(t);
  const e = engine(t, helpers.env);
  await importBusybox(e.root);
  writeFileSync(
    e.configFile,
    JSON.stringify({ credsStore: 'skifftest', HttpHeaders: { 'User-Agent': 'kept' } }),
  );

  await t.test('login: the secret goes to the helper; auths keeps an empty entry', async () => {
    const r = await e.skiff(['login', '-u', 'skiff', '--password-stdin', registry.host], {
      input: 's3cret\n',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(readFileSync(helpers.entry(registry.host), 'utf8')), {
      ServerURL: registry.host,
      Username: 'skiff',
      Secret: 's3cret',
    });
    const config = JSON.parse(readFileSync(e.configFile, 'utf8'));
    assert.deepEqual(config.auths, { [registry.host]: {} });
    assert.deepEqual(config.HttpHeaders, { 'User-Agent': 'kept' });
  });

  await t.test('push and pull get the credentials from the helper', async () => {
    assert.equal((await e.skiff(['tag', 'busybox:latest', ref])).status, 0);
    const pushed = await e.skiff(['push', ref]);
    assert.equal(pushed.status, 0, pushed.stderr);
    const other = engine(t, helpers.env);
    writeFileSync(other.configFile, JSON.stringify({ credsStore: 'skifftest' }));
    const r = await other.skiff(['pull', ref]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(helpers.log().includes(`get ${registry.host}`), helpers.log().join('\n'));
  });

  await t.test('credHelpers names the helper per registry, before credsStore', async () => {
    const other = engine(t, helpers.env);
    writeFileSync(
      other.configFile,
      JSON.stringify({ credsStore: 'skiffbroken', credHelpers: { [registry.host]: 'skifftest' } }),
    );
    const r = await other.skiff(['pull', ref]);
    assert.equal(r.status, 0, r.stderr);
  });

  await t.test('an identity token (<token>) is exchanged by OAuth2 refresh_token', async () => {
    const other = engine(t, helpers.env);
    writeFileSync(other.configFile, JSON.stringify({ credHelpers: { [registry.host]: 'skifftest' } }));
    const saved = readFileSync(helpers.entry(registry.host), 'utf8');
    writeFileSync(
      helpers.entry(registry.host),
      JSON.stringify({ ServerURL: registry.host, Username: '<token>', Secret: 'refresh-me' }),
    );
    issuer.requests.length = 0;
    const r = await other.skiff(['pull', ref]);
    writeFileSync(helpers.entry(registry.host), saved);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(issuer.requests, ['refresh repository:helped/busybox:pull']);
  });

  await t.test('a helper that fails: its name, exit status and stderr', async () => {
    const other = engine(t, helpers.env);
    writeFileSync(other.configFile, JSON.stringify({ credsStore: 'skiffbroken' }));
    const r = await other.skiff(['pull', ref]);
    assert.equal(r.status, 1, r.stdout);
    assert.match(
      r.stderr,
      /credential helper docker-credential-skiffbroken get failed \(exit 3\): keychain is locked/,
    );
  });

  await t.test('a helper that is not installed', async () => {
    const other = engine(t, helpers.env);
    writeFileSync(other.configFile, JSON.stringify({ credHelpers: { [registry.host]: 'skiffnowhere' } }));
    const r = await other.skiff(['pull', ref]);
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stderr, /credential helper docker-credential-skiffnowhere not found on PATH/);
  });

  await t.test('logout erases from the helper and drops the auths entry', async () => {
    const r = await e.skiff(['logout', registry.host]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `Removing login credentials for ${registry.host}\n`);
    assert.ok(helpers.log().includes(`erase ${registry.host}`));
    assert.throws(() => readFileSync(helpers.entry(registry.host)), /ENOENT/);
    const config = JSON.parse(readFileSync(e.configFile, 'utf8'));
    assert.deepEqual(config.auths, {});
    const again = await e.skiff(['pull', ref]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /unauthorized: .*requires credentials/);
  });
});

/**
 * A proxy in front of a token-auth registry that refuses every Bearer token after its first use,
 * with the registry's own challenge (error="invalid_token"), as a registry does once a token has
 * expired: each refused request must get a new token and succeed with it.
 */
async function tokenOnceProxy(t: After, port: number, realm: string) {
  const used = new Set<string>();
  let refused = 0;
  const server = createServer((req, res) => {
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) {
      if (used.has(auth)) {
        refused++;
        req.resume();
        const scope = /\/v2\/(.+?)\/(?:manifests|blobs|tags)\//.exec(req.url ?? '')?.[1];
        res.writeHead(401, {
          'content-type': 'application/json',
          'www-authenticate': `Bearer realm="${realm}",service="${TOKEN_SERVICE}",scope="repository:${scope}:pull",error="invalid_token"`,
        });
        res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
        return;
      }
      used.add(auth);
    }
    const upstream = request(
      { host: '127.0.0.1', port, path: req.url, method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  const proxyPort = typeof address === 'object' && address ? address.port : 0;
  return { host: `127.0.0.1:${proxyPort}`, refused: () => refused };
}

test('Bearer tokens: an expired or refused token is fetched again once; no access and wrong credentials are said', async (t) => {
  const options: TokenIssuerOptions = {};
  const issuer = await startTokenIssuer(t, 'skiff', 's3cret', options);
  if (!issuer) {
    t.skip('no openssl to make the token issuer’s key');
    return;
  }
  const registry = await startRegistry(t, { token: issuer });
  const ref = `${registry.host}/tok/busybox:1`;
  await pushBusybox(t, [ref], {}, registry.host);
  const e = engine(t);
  writeFileSync(
    e.configFile,
    JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from('skiff:s3cret').toString('base64') } } }),
  );

  await t.test(
    'a token refused after its first use (as when it expires) is asked for again, and the pull goes on',
    async () => {
      const proxy = await tokenOnceProxy(t, registry.port, issuer.realm);
      const at = `${proxy.host}/tok/busybox:1`;
      writeFileSync(
        e.configFile,
        JSON.stringify({
          auths: {
            [registry.host]: { auth: Buffer.from('skiff:s3cret').toString('base64') },
            [proxy.host]: { auth: Buffer.from('skiff:s3cret').toString('base64') },
          },
        }),
      );
      issuer.requests.length = 0;
      const r = await e.skiff(['pull', at]);
      assert.equal(r.status, 0, r.stderr);
      assert.ok(proxy.refused() >= 2, `config and layer were refused once each (${proxy.refused()})`);
      assert.equal(issuer.requests.length, proxy.refused() + 1, issuer.requests.join('\n'));
      assert.ok(
        issuer.requests.every((q) => q === 'basic repository:tok/busybox:pull'),
        issuer.requests.join('\n'),
      );

      // A push likewise, its tokens still asking for pull,push.
      const tagged = await e.skiff(['tag', at, `${proxy.host}/tok/other:1`]);
      assert.equal(tagged.status, 0, tagged.stderr);
      issuer.requests.length = 0;
      const pushed = await e.skiff(['push', `${proxy.host}/tok/other:1`]);
      assert.equal(pushed.status, 0, pushed.stderr);
      assert.ok(issuer.requests.length >= 2, issuer.requests.join('\n'));
      assert.ok(
        issuer.requests.every((q) => q.startsWith('basic repository:tok/other:pull,push')),
        issuer.requests.join('\n'),
      );
    },
  );

  await t.test('only once: a fresh token that is refused fails the pull, naming the registry', async () => {
    options.expiredTokens = 5;
    issuer.requests.length = 0;
    const r = await e.skiff(['pull', ref]);
    options.expiredTokens = 0;
    assert.equal(r.status, 1, r.stdout);
    assert.match(
      r.stderr,
      new RegExp(`unauthorized: .*${registry.host} refused a fresh token for user "skiff"`),
    );
    assert.equal(issuer.requests.length, 1, issuer.requests.join('\n'));
  });

  await t.test('a token that reaches its expires_in is renewed before the next request', async () => {
    options.expiresIn = 1;
    issuer.requests.length = 0;
    const client = new RegistryClient(endpointFor(registry.host), 'tok/busybox', {
      username: 'skiff',
      password: 's3cret',
    });
    (
      await client.get('manifests/1', { accept: 'application/vnd.oci.image.manifest.v1+json' })
    ).body?.cancel();
    (
      await client.get('manifests/1', { accept: 'application/vnd.oci.image.manifest.v1+json' })
    ).body?.cancel();
    assert.equal(issuer.requests.length, 1, 'a live token is used again');
    // The token's lifetime has to pass; there is nothing to poll for.
    await delay(1200);
    const again = await client.get('manifests/1', {
      accept: 'application/vnd.oci.image.manifest.v1+json',
    });
    await again.body?.cancel();
    options.expiresIn = undefined;
    assert.equal(issuer.requests.length, 2, issuer.requests.join('\n'));
  });

  await t.test(
    'no access: a token without push is refused as denied, with the registry’s words',
    async () => {
      const pulled = await e.skiff(['pull', ref]);
      assert.equal(pulled.status, 0, pulled.stderr);
      options.readOnly = true;
      issuer.requests.length = 0;
      const tagged = await e.skiff(['tag', ref, `${registry.host}/tok/denied:1`]);
      assert.equal(tagged.status, 0, tagged.stderr);
      const r = await e.skiff(['push', `${registry.host}/tok/denied:1`]);
      options.readOnly = false;
      assert.equal(r.status, 1, r.stdout);
      assert.match(
        r.stderr,
        new RegExp(
          `denied: .*\\(${registry.host}: the token for repository:tok/denied:pull,push.* given to user "skiff" from .*config\\.json does not grant POST /v2/tok/denied/blobs/uploads/`,
        ),
      );
      assert.equal(issuer.requests.length, 2, `asked again once: ${issuer.requests.join(', ')}`);
    },
  );

  await t.test(
    'wrong credentials: the token service’s words and where the credentials came from',
    async () => {
      const other = engine(t);
      writeFileSync(
        other.configFile,
        JSON.stringify({
          auths: { [registry.host]: { auth: Buffer.from('skiff:wrong').toString('base64') } },
        }),
      );
      const r = await other.skiff(['pull', ref]);
      assert.equal(r.status, 1, r.stdout);
      assert.match(
        r.stderr,
        new RegExp(
          `unauthorized: the token service of ${registry.host} \\(127\\.0\\.0\\.1:\\d+\\) refused the credentials of user "skiff" from ${other.configFile}: incorrect username or password`,
        ),
      );
    },
  );
});

/**
 * A front of a registry that pages its tags list as the distribution spec says (sorted, `n`
 * (default 2 here), `last`, a `Link: <…>; rel="next"` header), which Debian's docker-registry 2.8
 * does not do; everything else is passed through.
 */
async function pagingProxy(t: After, port: number) {
  const pages: string[] = [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const match = /^\/v2\/(.+)\/tags\/list$/.exec(url.pathname);
    if (match && req.method === 'GET') {
      pages.push(url.search);
      const upstream = await fetch(`http://127.0.0.1:${port}${url.pathname}`);
      const body = (await upstream.json()) as { name: string; tags: string[] };
      if (!upstream.ok) {
        res.writeHead(upstream.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
        return;
      }
      const n = Number(url.searchParams.get('n') ?? 2);
      const last = url.searchParams.get('last') ?? '';
      const rest = body.tags.sort().filter((tag) => tag > last);
      const page = rest.slice(0, n);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (rest.length > n)
        headers.link = `</v2/${match[1]}/tags/list?last=${page.at(-1)}&n=${n}>; rel="next"`;
      res.writeHead(200, headers);
      res.end(JSON.stringify({ name: body.name, tags: page }));
      return;
    }
    const upstream = request(
      { host: '127.0.0.1', port, path: req.url, method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  const proxyPort = typeof address === 'object' && address ? address.port : 0;
  return { host: `127.0.0.1:${proxyPort}`, pages };
}

test('pull --all-tags: every tag, docker’s lines; a tag or digest with it is refused; the tags list is paged', async (t) => {
  const registry = await startRegistry(t);
  const name = `${registry.host}/many`;
  await pushBusybox(t, [`${name}:a`, `${name}:b`, `${name}:c`]);
  const { skiff } = engine(t);

  await t.test('pulls a, b and c, following the tags list’s pages', async () => {
    const proxy = await pagingProxy(t, registry.port);
    const paged = `${proxy.host}/many`;
    const r = await skiff(['pull', '--all-tags', paged]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(proxy.pages, ['', '?last=b&n=2']);
    const lines = r.stdout.split('\n');
    assert.deepEqual(
      lines
        .filter((l) => / Pulling from |^Digest: |^Status: /.test(l))
        .map((l) => l.replace(/sha256:\w+/, 'D')),
      [
        'a: Pulling from many',
        'Digest: D',
        'b: Pulling from many',
        'Digest: D',
        'c: Pulling from many',
        'Digest: D',
        `Status: Downloaded newer image for ${paged}`,
      ],
    );
    assert.equal(lines.at(-2), paged);
    const images = await skiff(['images', '--format', '{{.Tag}}', paged]);
    assert.deepEqual(images.stdout.split('\n').filter(Boolean).sort(), ['a', 'b', 'c']);
    const again = await skiff(['pull', '-a', name]);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.stdout.split('\n').filter((l) => l.includes(': Pulling from many')).length, 3);
    assert.match(again.stdout, new RegExp(`Status: Downloaded newer image for ${name}\n${name}\n$`));
    const quiet = await skiff(['pull', '-a', '-q', name]);
    assert.equal(quiet.stdout, `${name}\n`);
    const client = new RegistryClient(endpointFor(proxy.host), 'many');
    assert.deepEqual(await listTagsAt(client, 1), ['a', 'b', 'c']);
  });

  await t.test('a tag or a digest with --all-tags is refused, as docker does', async () => {
    for (const ref of [`${name}:a`, `${name}@sha256:${'0'.repeat(64)}`]) {
      const r = await skiff(['pull', '--all-tags', ref]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /tag can't be used with --all-tags\/-a/);
    }
  });

  await t.test('an unknown repository', async () => {
    const r = await skiff(['pull', '--all-tags', `${registry.host}/nothing`]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /repository 127\.0\.0\.1:\d+\/nothing not found: name unknown/);
  });
});

test('HTTP Basic: wrong credentials are named with where they came from', async (t) => {
  const line = htpasswdLine('skiff', 's3cret');
  if (!line) {
    t.skip('no bcrypt hasher here (python3 crypt with METHOD_BLOWFISH)');
    return;
  }
  const registry = await startRegistry(t, { htpasswd: line });
  const { skiff, configFile } = engine(t);
  writeFileSync(
    configFile,
    JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from('skiff:wrong').toString('base64') } } }),
  );
  const r = await skiff(['pull', `${registry.host}/private/busybox:1`]);
  assert.equal(r.status, 1, r.stdout);
  assert.match(
    r.stderr,
    new RegExp(
      `unauthorized: authentication required \\(${registry.host} refused the credentials of user "skiff" from ${configFile}\\)`,
    ),
  );
});
