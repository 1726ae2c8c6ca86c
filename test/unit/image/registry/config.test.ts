import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import {
  certsFilesFor,
  credentialHelperFor,
  DEFAULT_CERTS_DIRS,
  endpointFor,
  mergeScopes,
  mirrorsFor,
  nextPage,
  parseRegistriesConfig,
} from '../../../../src/image/index.ts';

test('registries config: mirrors, insecure, certsDir (a string or a list; default skiff’s and docker’s)', () => {
  assert.deepEqual(parseRegistriesConfig({}, 'f'), {
    file: 'f',
    mirrors: {},
    insecure: [],
    certsDirs: DEFAULT_CERTS_DIRS,
  });
  assert.deepEqual(DEFAULT_CERTS_DIRS, ['/etc/skiff/certs.d', '/etc/docker/certs.d']);
  const config = parseRegistriesConfig(
    { mirrors: { 'docker.io': ['https://m.example.com'] }, insecure: ['r:5000'], certsDir: '/c' },
    'f',
  );
  assert.deepEqual(config.mirrors, { 'docker.io': ['https://m.example.com'] });
  assert.deepEqual(config.insecure, ['r:5000']);
  assert.deepEqual(config.certsDirs, ['/c']);
});

test('registries config: a mistake is named with its field', () => {
  assert.throws(() => parseRegistriesConfig([], 'f'), /f: expected a JSON object/);
  assert.throws(() => parseRegistriesConfig({ mirror: {} }, 'f'), /f: unknown field "mirror"/);
  assert.throws(() => parseRegistriesConfig({ mirrors: [] }, 'f'), /"mirrors" must be an object/);
  assert.throws(
    () => parseRegistriesConfig({ mirrors: { 'docker.io': 'x' } }, 'f'),
    /"mirrors\["docker.io"\]" must be a list of non-empty strings/,
  );
  assert.throws(() => parseRegistriesConfig({ insecure: [''] }, 'f'), /"insecure" must be a list/);
  assert.throws(() => parseRegistriesConfig({ certsDir: 3 }, 'f'), /"certsDir" must be a list/);
});

test('certs.d: *.crt are CAs, NAME.cert goes with NAME.key, a lone half is an error', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-certsd-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'r:5000'));
  for (const name of ['ca.crt', 'b.crt', 'client.cert', 'client.key'])
    writeFileSync(path.join(dir, 'r:5000', name), '');
  const files = certsFilesFor('r:5000', [dir, path.join(dir, 'absent')]);
  assert.deepEqual(files, {
    dirs: [path.join(dir, 'r:5000')],
    cas: [path.join(dir, 'r:5000', 'b.crt'), path.join(dir, 'r:5000', 'ca.crt')],
    pairs: [{ cert: path.join(dir, 'r:5000', 'client.cert'), key: path.join(dir, 'r:5000', 'client.key') }],
  });
  assert.equal(certsFilesFor('other:5000', [dir]), undefined);
  rmSync(path.join(dir, 'r:5000', 'client.key'));
  assert.throws(
    () => certsFilesFor('r:5000', [dir]),
    /missing key client\.key for client certificate client\.cert/,
  );
});

test('token scopes: the actions of one resource are merged', () => {
  assert.deepEqual(
    mergeScopes(['repository:a:pull', 'repository:a:push', 'repository:b:pull', 'repository:a:pull']),
    ['repository:a:pull,push', 'repository:b:pull'],
  );
  assert.deepEqual(mergeScopes(['registry:catalog:*']), ['registry:catalog:*']);
});

test('tags list pages: the rel="next" target of a Link header, resolved against the page', () => {
  const base = 'https://r.example.com/v2/a/tags/list?n=2';
  assert.equal(
    nextPage('</v2/a/tags/list?last=b&n=2>; rel="next"', base),
    'https://r.example.com/v2/a/tags/list?last=b&n=2',
  );
  assert.equal(nextPage('<https://x/prev>; rel="prev", <https://x/next>; rel=next', base), 'https://x/next');
  assert.equal(nextPage(null, base), undefined);
  assert.equal(nextPage('<https://x/prev>; rel="prev"', base), undefined);
});

test('credential helpers: credHelpers by host name before credsStore; docker.io under index.docker.io', () => {
  assert.equal(credentialHelperFor({}, 'r:5000', 'f'), undefined);
  assert.equal(credentialHelperFor({ credsStore: 'desktop' }, 'r:5000', 'f'), 'desktop');
  assert.equal(
    credentialHelperFor({ credsStore: 'desktop', credHelpers: { 'r:5000': 'ecr' } }, 'r:5000', 'f'),
    'ecr',
  );
  assert.equal(credentialHelperFor({ credHelpers: { 'index.docker.io': 'hub' } }, 'docker.io', 'f'), 'hub');
  assert.throws(() => credentialHelperFor({ credsStore: 3 }, 'r', 'f'), /f: "credsStore" must be a string/);
  assert.throws(
    () => credentialHelperFor({ credHelpers: { r: '' } }, 'r', 'f'),
    /credHelpers\["r"\] must be/,
  );
});

test('endpoints and mirrors by the config file of $SKIFF_REGISTRIES_CONFIG', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-regcfg-'));
  const saved = process.env.SKIFF_REGISTRIES_CONFIG;
  t.after(() => {
    rmSync(dir, { recursive: true, force: true });
    if (saved === undefined) delete process.env.SKIFF_REGISTRIES_CONFIG;
    else process.env.SKIFF_REGISTRIES_CONFIG = saved;
  });
  mkdirSync(path.join(dir, 'certs.d', '127.0.0.1:5443'), { recursive: true });
  const file = path.join(dir, 'registries.json');
  writeFileSync(
    file,
    JSON.stringify({
      mirrors: {
        'docker.io': ['https://m.example.com/v2/', 'http://127.0.0.1:5001', 'cache.example.com/hub/'],
      },
      insecure: ['myreg:5000'],
      certsDir: path.join(dir, 'certs.d'),
    }),
  );
  process.env.SKIFF_REGISTRIES_CONFIG = file;
  assert.equal(endpointFor('myreg:5000').base, 'http://myreg:5000');
  assert.equal(endpointFor('other:5000').base, 'https://other:5000');
  assert.equal(endpointFor('127.0.0.1:5000').base, 'http://127.0.0.1:5000');
  assert.equal(endpointFor('127.0.0.1:5443').base, 'https://127.0.0.1:5443', 'a certs.d directory says TLS');
  assert.deepEqual(mirrorsFor('docker.io'), [
    { domain: 'm.example.com', base: 'https://m.example.com', mirrorOf: 'docker.io' },
    { domain: '127.0.0.1:5001', base: 'http://127.0.0.1:5001', mirrorOf: 'docker.io' },
    { domain: 'cache.example.com', base: 'https://cache.example.com', mirrorOf: 'docker.io', prefix: 'hub' },
  ]);
  assert.deepEqual(mirrorsFor('quay.io'), []);
  process.env.SKIFF_REGISTRIES_CONFIG = path.join(dir, 'absent.json');
  assert.throws(() => endpointFor('x.example.com'), /read registries config `.*absent\.json`: ENOENT/);
});
