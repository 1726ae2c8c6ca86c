import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import {
  candidateVersions,
  loadConfigLists,
  parseConfigList,
  requestConfig,
  selectVersion,
} from '../../../src/network/index.ts';

const LIST = {
  cniVersion: '1.0.0',
  name: 'dbnet',
  plugins: [
    { type: 'bridge', bridge: 'cni0', keyA: ['kept'], ipam: { type: 'host-local', subnet: '10.1.0.0/16' } },
    { type: 'portmap', capabilities: { portMappings: true } },
  ],
};

test('a configuration list is parsed and its plugins keep their own fields', () => {
  const list = parseConfigList(JSON.stringify(LIST), 'dbnet.conflist');
  assert.equal(list.name, 'dbnet');
  assert.equal(list.plugins.length, 2);
  assert.deepEqual(list.plugins[0]!.keyA, ['kept']);
  assert.equal(list.source, 'dbnet.conflist');
});

test('a single plugin configuration (.conf) is a list of one', () => {
  const list = parseConfigList(
    JSON.stringify({ cniVersion: '0.4.0', name: 'one', type: 'bridge', bridge: 'b' }),
  );
  assert.deepEqual(list.plugins, [{ type: 'bridge', bridge: 'b' }]);
  assert.equal(list.cniVersion, '0.4.0');
});

test('invalid configurations name the file and the field', () => {
  const bad = (value: object) => () => parseConfigList(JSON.stringify({ ...LIST, ...value }), 'x.conflist');
  assert.throws(() => parseConfigList('{', 'x.conflist'), /x\.conflist: not valid JSON/);
  assert.throws(bad({ name: '-bad' }), /x\.conflist: `name` must start with a letter or digit/);
  assert.throws(bad({ name: 'a/b' }), /`name`/);
  assert.throws(bad({ cniVersion: 'one' }), /`cniVersion` must be a version/);
  assert.throws(bad({ plugins: [] }), /`plugins` must be a non-empty list/);
  assert.throws(
    bad({ plugins: [{ type: '../bin/sh' }] }),
    /plugins\[0\]: `type` must name a plugin executable/,
  );
  assert.throws(bad({ plugins: [{ type: 'bridge', runtimeConfig: {} }] }), /`runtimeConfig` is reserved/);
  assert.throws(bad({ plugins: [{ type: 'bridge', capabilities: { ports: 'yes' } }] }), /`capabilities`/);
  assert.throws(bad({ disableCheck: 'no' }), /`disableCheck` must be true or false/);
});

test('the highest version skiff and every plugin support is chosen', () => {
  const list = parseConfigList(
    JSON.stringify({ ...LIST, cniVersion: '0.3.1', cniVersions: ['1.0.0', '1.1.0', '0.2.0'] }),
  );
  assert.deepEqual(candidateVersions(list), ['1.1.0', '1.0.0', '0.3.1']);
  assert.equal(
    selectVersion(list, [
      ['0.3.1', '1.0.0'],
      ['1.0.0', '1.1.0'],
    ]),
    '1.0.0',
  );
  assert.throws(() => selectVersion(list, [['0.4.0']]), /its plugins support none of the versions/);
  const old = parseConfigList(JSON.stringify({ ...LIST, cniVersion: '0.2.0' }), 'old.conf');
  assert.throws(
    () => candidateVersions(old),
    /CNI version 0\.2\.0 is not supported .* change `cniVersion` in old\.conf/,
  );
});

test('request configuration: version and name inserted, runtimeConfig from declared capabilities, prevResult chained', () => {
  const list = parseConfigList(JSON.stringify(LIST));
  const ports = [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }];
  const entry = { cniVersion: '1.0.0', capabilityArgs: { portMappings: ports, mac: 'aa:bb:cc:dd:ee:ff' } };
  const first = requestConfig(list, list.plugins[0]!, entry, undefined);
  assert.equal(first.cniVersion, '1.0.0');
  assert.equal(first.name, 'dbnet');
  assert.equal('runtimeConfig' in first, false, 'bridge declares no capability');
  assert.equal('prevResult' in first, false);
  const prev = { cniVersion: '1.0.0', ips: [{ address: '10.1.0.2/16' }] };
  const second = requestConfig(list, list.plugins[1]!, entry, prev);
  assert.deepEqual(second.runtimeConfig, { portMappings: ports });
  assert.deepEqual(second.prevResult, prev);
  assert.equal('capabilities' in second, false, 'capabilities must not be set (section 3)');
});

test('a config directory: lists by name in file order; an invalid file is an error naming it', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-cni-conf-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal((await loadConfigLists(path.join(dir, 'missing'))).size, 0);
  writeFileSync(path.join(dir, '10-db.conflist'), JSON.stringify(LIST));
  writeFileSync(
    path.join(dir, '20-db.conflist'),
    JSON.stringify({ ...LIST, plugins: [{ type: 'macvlan' }] }),
  );
  writeFileSync(path.join(dir, 'README'), 'not a config');
  const lists = await loadConfigLists(dir);
  assert.deepEqual([...lists.keys()], ['dbnet']);
  assert.equal(lists.get('dbnet')!.plugins[0]!.type, 'bridge');
  writeFileSync(path.join(dir, '30-bad.conf'), '{"name": "x"}');
  await assert.rejects(loadConfigLists(dir), /30-bad\.conf: `plugins` must be a non-empty list/);
});
