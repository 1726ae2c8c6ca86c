import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { credentialsFor, endpointFor, isLoopback, parseChallenge } from '../../../src/image/index.ts';

test('endpoints: docker.io is registry-1, loopback over plain HTTP, others over HTTPS', () => {
  assert.equal(endpointFor('docker.io').base, 'https://registry-1.docker.io');
  assert.equal(endpointFor('127.0.0.1:5000').base, 'http://127.0.0.1:5000');
  assert.equal(endpointFor('127.3.2.1').base, 'http://127.3.2.1');
  assert.equal(endpointFor('localhost:5000').base, 'http://localhost:5000');
  assert.equal(endpointFor('[::1]:5000').base, 'http://[::1]:5000');
  assert.equal(endpointFor('ghcr.io').base, 'https://ghcr.io');
  assert.equal(endpointFor('128.0.0.1:5000').base, 'https://128.0.0.1:5000');
  assert.equal(isLoopback('localhost.example.com'), false);
});

test('WWW-Authenticate challenges: scheme and quoted parameters', () => {
  assert.deepEqual(
    parseChallenge(
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"',
    ),
    {
      scheme: 'bearer',
      params: {
        realm: 'https://auth.docker.io/token',
        service: 'registry.docker.io',
        scope: 'repository:library/busybox:pull',
      },
    },
  );
  assert.deepEqual(parseChallenge('Basic realm="skiff \\"test\\""'), {
    scheme: 'basic',
    params: { realm: 'skiff "test"' },
  });
  assert.equal(parseChallenge(''), undefined);
});

test('credentials from a docker config: auth (base64), username/password, docker.io under its index URL', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-creds-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'config.json');
  writeFileSync(
    file,
    JSON.stringify({
      auths: {
        'https://index.docker.io/v1/': { auth: Buffer.from('hub:pw:with:colons').toString('base64') },
        'registry.example.com': { username: 'u', password: 'p' },
        'bad.example.com': { auth: Buffer.from('nocolon').toString('base64') },
      },
    }),
  );
  assert.deepEqual(await credentialsFor('docker.io', file), {
    username: 'hub',
    password: 'pw:with:colons',
    source: file,
  });
  assert.deepEqual(await credentialsFor('registry.example.com', file), {
    username: 'u',
    password: 'p',
    source: file,
  });
  assert.equal(await credentialsFor('other.example.com', file), undefined);
  assert.equal(await credentialsFor('docker.io', path.join(dir, 'missing.json')), undefined);
  await assert.rejects(
    credentialsFor('bad.example.com', file),
    /auths\["bad.example.com"\].auth is not base64 of user:password/,
  );
});
