// `skiff push`, `login` and `logout` against a real registry (Debian's docker-registry on a free
// 127.0.0.1 port): the busybox test image is pushed, read back by skopeo (the digest skiff printed)
// and pulled by skiff into a fresh root, where it runs; a second push finds its layers there; an
// htpasswd registry refuses a push until `skiff login`, whose entry `logout` removes again; a token
// registry is pushed to with a pull,push token. Every test has its own DOCKER_CONFIG.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { importBusybox, SKIFF } from '../helpers/engine.ts';
import { htpasswdLine, startRegistry, startTokenIssuer } from '../helpers/registry.ts';

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

/** An engine root (containers removed after the test) and a DOCKER_CONFIG of its own. */
function engine(t: After) {
  const root = mkdtempSync(path.join(tmpdir(), 'skiff-push-'));
  const dockerConfig = tempDir(t, 'skiff-dockercfg-');
  const env = {
    ...process.env,
    SKIFF_ROOT: root,
    SKIFF_RUNROOT: path.join(root, 'run'),
    DOCKER_CONFIG: dockerConfig,
  };
  // Asynchronous: a token issuer serves from this process meanwhile.
  const skiff = (args: string[], input?: string): Promise<Result> =>
    new Promise((resolve) => {
      const child = spawn(SKIFF, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      child.stdin.end(input ?? '');
      child.on('close', (code) => resolve({ status: code ?? -1, stdout, stderr }));
    });
  t.after(async () => {
    const ids = (await skiff(['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean);
    if (ids.length > 0) await skiff(['rm', '-f', ...ids]);
    // Last: the commands above would make the root again.
    rmSync(root, { recursive: true, force: true });
  });
  return { root, dockerConfig, skiff, configFile: path.join(dockerConfig, 'config.json') };
}

/** An engine holding the busybox test image tagged as ref. */
async function withBusybox(t: After, ref: string) {
  const e = engine(t);
  await importBusybox(e.root);
  const tagged = await e.skiff(['tag', 'busybox:latest', ref]);
  assert.equal(tagged.status, 0, tagged.stderr);
  return e;
}

/** The manifest digest the registry holds for ref (what `skopeo inspect --raw` hashes to). */
function manifestDigest(ref: string, creds?: string): string {
  const r = spawnSync('skopeo', [
    'inspect',
    '--tls-verify=false',
    ...(creds ? ['--creds', creds] : []),
    '--raw',
    `docker://${ref}`,
  ]);
  assert.equal(r.status, 0, r.stderr.toString());
  return `sha256:${createHash('sha256').update(r.stdout).digest('hex')}`;
}

test('skiff push to an anonymous registry', async (t) => {
  const registry = await startRegistry(t);
  const ref = `${registry.host}/busybox:1`;
  const { skiff } = await withBusybox(t, ref);
  let digest = '';

  await t.test('pushes with docker’s lines; skopeo reads the digest skiff printed', async () => {
    const r = await skiff(['push', ref]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines[0], `The push refers to repository [${registry.host}/busybox]`);
    assert.ok(
      lines.some((l) => /^[0-9a-f]{12}: Pushed$/.test(l)),
      r.stdout,
    );
    const last = /^1: digest: (sha256:[0-9a-f]{64}) size: (\d+)$/.exec(lines.at(-1)!);
    assert.ok(last, r.stdout);
    digest = last[1]!;
    assert.equal(manifestDigest(ref), digest);
    const inspect = spawnSync('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`], {
      encoding: 'utf8',
    });
    assert.equal(inspect.status, 0, inspect.stderr);
    assert.equal(JSON.parse(inspect.stdout).Digest, digest);
  });

  await t.test('skopeo copies it whole (every blob verified)', async () => {
    const dir = tempDir(t, 'skiff-push-oci-');
    const r = spawnSync(
      'skopeo',
      ['copy', '-q', '--src-tls-verify=false', `docker://${ref}`, `oci:${path.join(dir, 'layout')}:x`],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
  });

  await t.test('skiff pulls it into a fresh root, with the same digest, and it runs', async () => {
    const other = engine(t);
    const pulled = await other.skiff(['pull', ref]);
    assert.equal(pulled.status, 0, pulled.stderr);
    assert.ok(pulled.stdout.includes(`Digest: ${digest}\n`), pulled.stdout);
    const r = await other.skiff(['run', '--rm', ref, 'echo', 'ok']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'ok\n');
  });

  await t.test('a second push: Layer already exists, the same digest; -q', async () => {
    const r = await skiff(['push', ref]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^[0-9a-f]{12}: Layer already exists$/m);
    assert.doesNotMatch(r.stdout, /: Pushed$/m);
    assert.match(r.stdout, new RegExp(`^1: digest: ${digest} size: \\d+$`, 'm'));
    const q = await skiff(['push', '-q', ref]);
    assert.equal(q.status, 0, q.stderr);
    assert.equal(q.stdout, `${ref}\n`);
  });

  await t.test('another repository of the registry: blobs mounted from the first', async () => {
    const other = `${registry.host}/other/busybox:2`;
    assert.equal((await skiff(['tag', ref, other])).status, 0);
    const r = await skiff(['push', other]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^[0-9a-f]{12}: Mounted from busybox$/m);
    assert.doesNotMatch(r.stdout, /: Pushed$/m);
    assert.match(r.stdout, new RegExp(`^2: digest: ${digest} size: \\d+$`, 'm'));
    assert.equal(manifestDigest(other), digest);
  });

  await t.test('an image that is not local is named', async () => {
    const r = await skiff(['push', `${registry.host}/nothing:1`]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^Error response from daemon: .*nothing:1/);
  });
});

test('skiff login, push and logout with htpasswd Basic auth', async (t) => {
  const line = htpasswdLine('skiff', 's3cret');
  if (!line) {
    t.skip('no bcrypt hasher here (python3 crypt with METHOD_BLOWFISH); Basic auth is untested');
    return;
  }
  const registry = await startRegistry(t, { htpasswd: line });
  const ref = `${registry.host}/private/busybox:1`;
  const { skiff, configFile } = await withBusybox(t, ref);
  const other = { credsStore: undefined, HttpHeaders: { 'User-Agent': 'kept' }, auths: { 'x.example': {} } };
  writeFileSync(configFile, JSON.stringify({ HttpHeaders: other.HttpHeaders, auths: other.auths }));
  const before = readFileSync(configFile, 'utf8');

  await t.test('push without login is refused', async () => {
    const r = await skiff(['push', ref]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /unauthorized: /);
  });

  await t.test('login with a wrong password fails with the registry’s message, writes nothing', async () => {
    const r = await skiff(['login', '-u', 'skiff', '--password-stdin', registry.host], 'wrong\n');
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /login attempt to http:\/\/127\.0\.0\.1:\d+\/v2\/ failed with status: 401 Unauthorized: authentication required\n$/,
    );
    assert.equal(readFileSync(configFile, 'utf8'), before);
  });

  await t.test('login succeeds and writes auths (0600), keeping the other keys', async () => {
    const r = await skiff(['login', '-u', 'skiff', '--password-stdin', registry.host], 's3cret\n');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'Login Succeeded\n');
    const config = JSON.parse(readFileSync(configFile, 'utf8'));
    assert.deepEqual(config.HttpHeaders, other.HttpHeaders);
    assert.deepEqual(config.auths['x.example'], {});
    assert.equal(config.auths[registry.host].auth, Buffer.from('skiff:s3cret').toString('base64'));
    assert.equal(statSync(configFile).mode & 0o777, 0o600);
  });

  await t.test('then the push works, and skopeo with the same credentials reads it', async () => {
    const r = await skiff(['push', ref]);
    assert.equal(r.status, 0, r.stderr);
    const digest = /^1: digest: (sha256:[0-9a-f]{64}) size: \d+$/m.exec(r.stdout)?.[1];
    assert.ok(digest, r.stdout);
    assert.equal(manifestDigest(ref, 'skiff:s3cret'), digest);
  });

  await t.test('-p warns as docker does', async () => {
    const r = await skiff(['login', '-u', 'skiff', '-p', 's3cret', registry.host]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /WARNING! Using --password via the CLI is insecure\. Use --password-stdin\./);
  });

  await t.test('logout removes the entry and keeps the rest', async () => {
    const r = await skiff(['logout', registry.host]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `Removing login credentials for ${registry.host}\n`);
    const config = JSON.parse(readFileSync(configFile, 'utf8'));
    assert.equal(config.auths[registry.host], undefined);
    assert.deepEqual(config.HttpHeaders, other.HttpHeaders);
    assert.deepEqual(config.auths['x.example'], {});
    const again = await skiff(['push', ref]);
    assert.equal(again.status, 1);
  });

  await t.test('a credential helper that is not installed is named', async () => {
    writeFileSync(configFile, JSON.stringify({ credsStore: 'skiff-absent' }));
    const r = await skiff(['login', '-u', 'skiff', '--password-stdin', registry.host], 's3cret\n');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /credential helper docker-credential-skiff-absent not found on PATH/);
  });
});

test('skiff push to a token-auth registry asks for pull,push', async (t) => {
  const issuer = await startTokenIssuer(t, 'skiff', 's3cret');
  if (!issuer) {
    t.skip('no openssl to make the token issuer’s key');
    return;
  }
  const registry = await startRegistry(t, { token: issuer });
  const ref = `${registry.host}/tok/busybox:1`;
  const { skiff, configFile } = await withBusybox(t, ref);
  const login = await skiff(['login', '-u', 'skiff', '--password-stdin', registry.host], 's3cret\n');
  assert.equal(login.status, 0, login.stderr);
  assert.ok(existsSync(configFile));
  const r = await skiff(['push', ref]);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(issuer.requests.includes('basic repository:tok/busybox:pull,push'), issuer.requests.join('\n'));
  const bad = await skiff(['login', '-u', 'skiff', '--password-stdin', registry.host], 'wrong\n');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /failed with status: 401 Unauthorized/);
});
