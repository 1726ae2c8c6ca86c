import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { authKey, credentialsFor, loginDomain, removeLogin, saveLogin } from '../../../src/image/index.ts';

test('login servers: docker.io under its legacy index URL, others by host[:port]', () => {
  assert.equal(loginDomain(undefined), 'docker.io');
  assert.equal(loginDomain('https://index.docker.io/v1/'), 'docker.io');
  assert.equal(loginDomain('registry-1.docker.io'), 'docker.io');
  assert.equal(authKey('docker.io'), 'https://index.docker.io/v1/');
  assert.equal(loginDomain('https://127.0.0.1:5000/v2/'), '127.0.0.1:5000');
  assert.equal(loginDomain('ghcr.io'), 'ghcr.io');
  assert.equal(authKey('ghcr.io'), 'ghcr.io');
  assert.throws(() => loginDomain('https://'), /invalid registry address/);
});

test('saveLogin / removeLogin: auths entry written 0600 atomically, other keys kept', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-dockercfg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'sub', 'config.json');
  await saveLogin('docker.io', { username: 'me', password: 'p:w' }, file);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), {
    auths: { 'https://index.docker.io/v1/': { auth: Buffer.from('me:p:w').toString('base64') } },
  });
  assert.deepEqual(await credentialsFor('docker.io', file), {
    username: 'me',
    password: 'p:w',
    source: file,
  });

  writeFileSync(file, JSON.stringify({ psFormat: 'x', auths: { 'ghcr.io': { auth: 'eDp5' } } }));
  await saveLogin('127.0.0.1:5000', { username: 'u', password: 'v' }, file);
  const config = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(config.psFormat, 'x');
  assert.deepEqual(Object.keys(config.auths).sort(), ['127.0.0.1:5000', 'ghcr.io']);
  assert.equal(await removeLogin('127.0.0.1:5000', file), true);
  assert.equal(await removeLogin('127.0.0.1:5000', file), false);
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), {
    psFormat: 'x',
    auths: { 'ghcr.io': { auth: 'eDp5' } },
  });
  assert.deepEqual(readdirSync(path.dirname(file)), ['config.json'], 'no temporary file left');

  writeFileSync(file, JSON.stringify({ credHelpers: { 'ghcr.io': 'gh' } }));
  await assert.rejects(
    saveLogin('ghcr.io', { username: 'u', password: 'v' }, file),
    /credential helper docker-credential-gh not found on PATH/,
  );
  // A helper for another server does not stand in the way.
  await saveLogin('quay.io', { username: 'u', password: 'v' }, file);
  assert.deepEqual(await credentialsFor('quay.io', file), { username: 'u', password: 'v', source: file });
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')).credHelpers, { 'ghcr.io': 'gh' });
});
