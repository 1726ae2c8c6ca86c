// `skiff ps` rows as docker's *formatter.ContainerContext prints them (COMMAND quoting and
// truncation, SIZE, the template fields and the .Label method), and `logs --tail` parsing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTail } from '../../../src/cli/commands/container/logs.ts';
import { containerRow, ellipsis, goQuote, sizeText } from '../../../src/cli/commands/container/ls.ts';
import { renderItems } from '../../../src/cli/render/index.ts';
import type { Container } from '../../../src/engine/index.ts';

const NOW = Date.parse('2026-11-23T15:00:00.000Z');
const ago = (ms: number) => new Date(NOW - ms).toISOString();

const C: Container = {
  id: `f00d${'0'.repeat(60)}`,
  name: 'web',
  image: 'busybox',
  imageId: `sha256:${'b'.repeat(64)}`,
  created: ago(120_000),
  state: 'running',
  pid: 100,
  startedAt: ago(5_000),
  exitCode: 0,
  oomKilled: false,
  restartCount: 0,
  config: {
    Image: 'busybox',
    Cmd: ['sh', '-c', 'while true; do echo "hi"; sleep 1; done'],
    Labels: { tier: 'front', app: 'shop' },
  },
  hostConfig: { NetworkMode: 'host' },
  mounts: [
    {
      type: 'volume',
      source: '/v/a/_data',
      destination: '/a',
      readOnly: false,
      name: 'a-very-long-volume-name',
      options: [],
    },
    { type: 'bind', source: '/srv', destination: '/srv', readOnly: true, options: [] },
  ],
};

test("COMMAND: quoted as Go's strconv.Quote, cut to 20 characters with … unless --no-trunc", () => {
  assert.equal(ellipsis('sleep 1000', 20), 'sleep 1000');
  assert.equal(ellipsis('x'.repeat(21), 20), `${'x'.repeat(19)}…`);
  assert.equal(goQuote('echo "hi"\tthere'), '"echo \\"hi\\"\\tthere"');
  assert.equal(goQuote('a\u0001'), '"a\\x01"');
  const row = containerRow(C, { trunc: true, now: NOW });
  assert.equal(row.Command, '"sh -c while true; d…"');
  const full = containerRow(C, { trunc: false, now: NOW });
  assert.equal(full.Command, '"sh -c while true; do echo \\"hi\\"; sleep 1; done"');
  assert.equal(full.ID, C.id);
});

test('ps fields: ID, CREATED, STATUS, Names, Labels (sorted), Mounts, Networks, State, Size', () => {
  const row = containerRow(C, { trunc: true, now: NOW });
  assert.equal(row.ID, 'f00d00000000');
  assert.equal(row.Image, 'busybox');
  assert.equal(row.RunningFor, '2 minutes ago');
  assert.equal(row.Status, 'Up 5 seconds');
  assert.equal(row.State, 'running');
  assert.equal(row.Names, 'web');
  assert.equal(row.Labels, 'app=shop,tier=front');
  assert.equal(row.Mounts, 'a-very-long-vo…,/srv');
  assert.equal(row.LocalVolumes, '1');
  assert.equal(row.Networks, 'host');
  assert.equal(row.Ports, '');
  assert.equal(row.Size, '0B');
  assert.equal(row.CreatedAt, '2026-11-23 14:58:00 +0000 UTC');
});

test('SIZE: the writable layer and, when known, the virtual size', () => {
  assert.equal(sizeText(undefined), '0B');
  assert.equal(sizeText({ rw: 0, rootFs: 1_234_567 }), '0B (virtual 1.23MB)');
  assert.equal(sizeText({ rw: 12_345, rootFs: 4_400_000 }), '12.3kB (virtual 4.4MB)');
});

test('templates: docker field names, {{.Label "k"}} as a method, json without the method', () => {
  const row = containerRow(C, { trunc: true, now: NOW });
  const render = (format: string) =>
    renderItems([row], { format, defaultFormat: '', headers: { ID: 'CONTAINER ID', Label: () => 'LABEL' } });
  assert.equal(render('{{.Names}} {{.Label "tier"}} {{.Label "missing"}}|'), 'web front |\n');
  assert.equal(render('table {{.ID}}\t{{.Label "app"}}'), 'CONTAINER ID   LABEL\nf00d00000000   shop\n');
  const json = JSON.parse(render('json'));
  assert.deepEqual(Object.keys(json), [
    'Command',
    'CreatedAt',
    'ID',
    'Image',
    'Labels',
    'LocalVolumes',
    'Mounts',
    'Names',
    'Networks',
    'Ports',
    'RunningFor',
    'Size',
    'State',
    'Status',
  ]);
  assert.throws(() => render('{{.Nope}}'), /can't evaluate field Nope in type \*formatter.ContainerContext/);
});

test('logs --tail: a count, else all (as moby reads anything that is not a count)', () => {
  assert.equal(parseTail(undefined), 'all');
  assert.equal(parseTail('all'), 'all');
  assert.equal(parseTail('3'), 3);
  assert.equal(parseTail('0'), 0);
  assert.equal(parseTail('-1'), 'all');
});
