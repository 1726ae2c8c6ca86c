// `bin/skiff network …` against a temporary $SKIFF_ROOT: docker's output, errors and exit codes.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { openEngineDb } from '../../src/engine/index.ts';
import { type Result, skiffWithRoot, tempEngineRoot } from '../helpers/engine.ts';

const tempRoot = (t: { after: (fn: () => void) => void }) => tempEngineRoot(t, 'skiff-cli-net-');
const skiff = (root: string, args: string[], input = ''): Result =>
  skiffWithRoot(root, args, { input, timeoutMs: 30_000 });
const lines = (s: string) => s.split('\n').slice(0, -1);
const ok = (r: Result) => {
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
};

/** A stopped container record on a network, as the engine writes it. */
function useNetwork(root: string, id: string, name: string, network: string): void {
  const db = openEngineDb(root);
  db.prepare(
    `INSERT INTO containers (id, name, image, image_id, created, state, config, host_config, mounts)
     VALUES (?, ?, 'img', 'sha256:x', '2026-01-01T00:00:00Z', 'exited', '{}', ?, '[]')`,
  ).run(id, name, JSON.stringify({ NetworkMode: network }));
  db.close();
}

test('network create / ls / inspect: ids, docker columns, filters, the IPAM config', (t) => {
  const root = tempRoot(t);
  assert.deepEqual(
    lines(ok(skiff(root, ['network', 'ls']))).map((l) => l.split(/\s+/).slice(1)),
    [
      ['ID', 'NAME', 'DRIVER', 'SCOPE'],
      ['host', 'host', 'local'],
      ['none', 'null', 'local'],
    ],
  );
  const id = ok(skiff(root, ['network', 'create', '--label', 'tier=db', 'backend'])).trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const other = ok(
    skiff(root, [
      'network',
      'create',
      '--subnet',
      '10.95.7.0/24',
      '--gateway',
      '10.95.7.254',
      '--internal',
      'front',
    ]),
  ).trim();
  const table = lines(ok(skiff(root, ['network', 'ls'])));
  assert.ok(table.includes(`${id.slice(0, 12)}   backend   bridge    local`), table.join('\n'));
  assert.deepEqual(lines(ok(skiff(root, ['network', 'ls', '-q', '--filter', 'label=tier=db']))), [
    id.slice(0, 12),
  ]);
  assert.deepEqual(
    lines(
      ok(skiff(root, ['network', 'ls', '--no-trunc', '--format', '{{.ID}} {{.Internal}}', '-f', 'name=fro'])),
    ),
    [`${other} true`],
  );
  assert.deepEqual(lines(ok(skiff(root, ['network', 'ls', '-f', 'type=custom', '--format', '{{.Name}}']))), [
    'backend',
    'front',
  ]);
  const [inspected] = JSON.parse(ok(skiff(root, ['network', 'inspect', 'front']))) as {
    Id: string;
    Driver: string;
    Internal: boolean;
    IPAM: { Config: unknown[] };
  }[];
  assert.equal(inspected!.Id, other);
  assert.equal(inspected!.Driver, 'bridge');
  assert.equal(inspected!.Internal, true);
  assert.deepEqual(inspected!.IPAM.Config, [{ Subnet: '10.95.7.0/24', Gateway: '10.95.7.254' }]);
  assert.equal(
    ok(skiff(root, ['network', 'inspect', '-f', '{{.Name}} {{.Labels.tier}}', id.slice(0, 8)])),
    'backend db\n',
  );
  // The configuration list is a CNI conflist an administrator can read.
  const conflist = JSON.parse(readFileSync(path.join(root, 'networks', 'backend.conflist'), 'utf8'));
  assert.deepEqual(
    conflist.plugins.map((p: { type: string }) => p.type),
    ['bridge', 'portmap', 'firewall'],
  );
  const bad = skiff(root, ['network', 'inspect', 'nope']);
  assert.deepEqual(
    [bad.status, bad.stdout, bad.stderr],
    [1, '[]\n', 'Error response from daemon: network nope not found\n'],
  );
});

test('network create refuses bad input with docker-like messages', (t) => {
  const root = tempRoot(t);
  ok(skiff(root, ['network', 'create', '--subnet', '10.96.0.0/24', 'a']));
  const cases: [string[], RegExp][] = [
    [['a'], /network with name a already exists/],
    [['host'], /reserved/],
    [['--subnet', '10.96.0.0/25', 'b'], /overlaps network a/],
    [['--subnet', '10.97.0.3/24', 'b'], /host bits are set; did you mean 10\.97\.0\.0\/24/],
    [['--gateway', '10.97.0.1', 'b'], /--gateway needs --subnet/],
    [['--subnet', '10.97.0.0/24', '--gateway', '10.98.0.1', 'b'], /gateway 10\.98\.0\.1 is not in subnet/],
    [['-d', 'macvlan', 'b'], /driver `macvlan` is not supported/],
    [['--ipv6', 'b'], /IPv6/],
    [['bad name'], /invalid network name/],
  ];
  for (const [args, message] of cases) {
    const r = skiff(root, ['network', 'create', ...args]);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stdout}`);
    assert.match(r.stderr, message, args.join(' '));
  }
  assert.deepEqual(lines(ok(skiff(root, ['network', 'ls', '-f', 'type=custom', '--format', '{{.Name}}']))), [
    'a',
  ]);
});

test('network rm and prune: pre-defined and used networks stay, with the users named', (t) => {
  const root = tempRoot(t);
  ok(skiff(root, ['network', 'create', 'used']));
  ok(skiff(root, ['network', 'create', 'spare']));
  ok(skiff(root, ['network', 'create', '--label', 'keep=1', 'kept']));
  useNetwork(root, 'c'.repeat(64), 'web', 'used');
  const refused = skiff(root, ['network', 'rm', 'used', 'none']);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /network used id [0-9a-f]{64} has active endpoints \(web\)/);
  assert.match(refused.stderr, /none is a pre-defined network and cannot be removed/);
  assert.equal(ok(skiff(root, ['network', 'rm', '-f', 'nope'])), '');
  assert.equal(
    skiff(root, ['network', 'prune'], 'n\n').stdout.includes('Are you sure you want to continue? [y/N]'),
    true,
  );
  assert.equal(
    ok(skiff(root, ['network', 'prune', '-f', '--filter', 'label!=keep'])),
    'Deleted Networks:\nspare\n',
  );
  assert.equal(existsSync(path.join(root, 'networks', 'spare.conflist')), false);
  assert.equal(ok(skiff(root, ['network', 'rm', 'kept'])), 'kept\n');
  assert.deepEqual(lines(ok(skiff(root, ['network', 'ls', '-f', 'type=custom', '--format', '{{.Name}}']))), [
    'used',
  ]);
});
