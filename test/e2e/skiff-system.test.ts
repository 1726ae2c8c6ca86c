// `skiff system df` and `skiff system prune` through bin/skiff on a store of their own: the counts,
// sizes and reclaimable space of images, containers and volumes, and what a prune removes and keeps.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type EngineEnv, engineEnv, importBusybox } from '../helpers/engine.ts';

function ok(e: EngineEnv, args: string[], input?: string): string {
  const r = e.skiff(args, input === undefined ? {} : { input });
  assert.equal(r.status, 0, `skiff ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** `system df`'s rows as TYPE -> [TOTAL, ACTIVE, SIZE, RECLAIMABLE]. */
function df(e: EngineEnv): Record<string, string[]> {
  const lines = ok(e, ['system', 'df']).trimEnd().split('\n');
  assert.match(lines[0]!, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE$/);
  const rows: Record<string, string[]> = {};
  for (const line of lines.slice(1)) {
    const cells = line.split(/ {2,}/);
    rows[cells[0]!] = cells.slice(1);
  }
  return rows;
}

test('system df: images, containers, volumes and build cache, plain and -v', async (t) => {
  const e = await engineEnv(t);
  const empty = df(e);
  assert.equal(empty.Images![0], '1');
  assert.equal(empty.Images![1], '0');
  assert.match(empty.Images![3]!, /\(100%\)$/, 'an image no container uses is reclaimable');
  assert.deepEqual(empty.Containers, ['0', '0', '0B', '0B']);
  assert.deepEqual(empty['Local Volumes'], ['0', '0', '0B', '0B']);
  assert.deepEqual(empty['Build Cache'], ['0', '0', '0B', '0B']);

  ok(e, ['run', '-d', '--name', 'up', 'busybox', 'sleep', '1000']);
  ok(e, [
    'run',
    '--name',
    'wrote',
    '-v',
    '/data',
    'busybox',
    'sh',
    '-c',
    'head -c 100000 /dev/zero > /f; echo hi > /data/x',
  ]);
  ok(e, ['volume', 'create', 'spare']);
  const used = df(e);
  assert.deepEqual(used.Containers, ['2', '1', '100kB', '100kB (100%)'], 'the stopped one wrote 100 kB');
  assert.equal(used.Images![1], '1');
  assert.equal(used.Images![3], '0B (0%)', 'the only image is in use');
  assert.deepEqual(used['Local Volumes'], ['2', '1', '3B', '0B (0%)']);

  const verbose = ok(e, ['system', 'df', '-v']);
  assert.match(
    verbose,
    /^Images space usage:\n\nREPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\s+SHARED SIZE\s+UNIQUE SIZE\s+CONTAINERS\n/,
  );
  assert.match(verbose, /\nbusybox\s+latest\s+[0-9a-f]{12}\s+.+\s+2\n/);
  assert.match(
    verbose,
    /\nContainers space usage:\n\nCONTAINER ID\s+IMAGE\s+COMMAND\s+LOCAL VOLUMES\s+SIZE\s+CREATED\s+STATUS\s+NAMES\n/,
  );
  assert.match(
    verbose,
    /\n[0-9a-f]{12}\s+busybox\s+"sh -c head -c 10000…"\s+1\s+100kB\s+.*Exited \(0\).*\s+wrote\n/,
  );
  assert.match(verbose, /\nLocal Volumes space usage:\n\nVOLUME NAME\s+LINKS\s+SIZE\n/);
  assert.match(verbose, /\nspare\s+0\s+0B\n/);
  assert.match(
    verbose,
    /\nBuild cache usage: 0B\n\nCACHE ID\s+CACHE TYPE\s+SIZE\s+CREATED\s+LAST USED\s+USAGE\s+SHARED\n$/,
  );
  assert.equal(
    ok(e, ['system', 'df', '--format', '{{.Type}}={{.TotalCount}}']),
    'Images=1\nContainers=2\nLocal Volumes=2\nBuild Cache=0\n',
  );
});

test('system prune: the prompt, stopped containers, dangling images; volumes only with --volumes', async (t) => {
  const e = await engineEnv(t);
  const danglingId = JSON.parse(ok(e, ['image', 'inspect', 'busybox']))[0].Id as string;
  await importBusybox(e.root); // busybox:latest moves to a new image: the old one dangles, unused
  const running = ok(e, ['run', '-d', 'busybox', 'sleep', '1000']).trim();
  const stopped = ok(e, ['create', '-v', '/data', 'busybox', 'true']).trim();
  ok(e, ['volume', 'create', 'named']);

  const declined = ok(e, ['system', 'prune'], 'n\n');
  assert.equal(
    declined,
    'WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all dangling images\n  - unused build cache\n\nAre you sure you want to continue? [y/N] ',
  );
  assert.match(ok(e, ['ps', '-aq', '--no-trunc']), new RegExp(stopped), 'declined: nothing removed');

  const out = ok(e, ['system', 'prune'], 'y\n');
  assert.match(out, new RegExp(`Deleted Containers:\n${stopped}\n\n`));
  assert.match(out, new RegExp(`Deleted Images:\n(untagged: .*\n)*deleted: ${danglingId}\n\n`));
  assert.doesNotMatch(out, /Deleted Volumes/);
  assert.match(out, /Total reclaimed space: [\d.]+[kM]?B\n$/);
  assert.equal(ok(e, ['ps', '-aq', '--no-trunc']).trim(), running, 'the running container stays');
  const volumes = ok(e, ['volume', 'ls', '-q']).trim().split('\n');
  assert.equal(volumes.length, 2, 'the anonymous volume of the pruned container stays without --volumes');

  const withVolumes = ok(e, ['system', 'prune', '-f', '--volumes']);
  assert.match(withVolumes, /^Deleted Volumes:\n[0-9a-f]{64}\n\nTotal reclaimed space: /);
  assert.equal(ok(e, ['volume', 'ls', '-q']).trim(), 'named', 'a named volume stays (anonymous ones only)');
  assert.equal(ok(e, ['images', '-q']).trim().split('\n').length, 1, 'the image in use stays');

  // -a: every image no container uses.
  ok(e, ['rm', '-f', running]);
  const all = ok(e, ['system', 'prune', '-a', '-f']);
  assert.match(all, /Deleted Images:\nuntagged: busybox:latest\n/);
  assert.equal(ok(e, ['images', '-q']).trim(), '');
});

test('system prune --filter: label and until narrow containers; until with --volumes is refused', async (t) => {
  const e = await engineEnv(t);
  const marked = ok(e, ['create', '--label', 'prune=me', 'busybox', 'true']).trim();
  const kept = ok(e, ['create', 'busybox', 'true']).trim();
  const warning = ok(e, ['system', 'prune', '--filter', 'label=prune=me', '--filter', 'until=1m'], 'n\n');
  assert.match(
    warning,
    /\n\n {2}Items to be pruned will be filtered with:\n {2}- label=prune=me\n {2}- until=1m\n\nAre you sure/,
  );
  // Nothing was created an hour ago: nothing goes.
  assert.doesNotMatch(ok(e, ['system', 'prune', '-f', '--filter', 'until=1h']), /Deleted Containers/);
  const out = ok(e, ['system', 'prune', '-f', '--filter', 'label=prune=me']);
  assert.match(out, new RegExp(`^Deleted Containers:\n${marked}\n\n`));
  assert.equal(ok(e, ['ps', '-aq', '--no-trunc']).trim(), kept);
  assert.match(ok(e, ['system', 'prune', '-f', '--filter', 'label!=prune=me']), new RegExp(kept));

  const refused = e.skiff(['system', 'prune', '-f', '--volumes', '--filter', 'until=1h']);
  assert.equal(refused.status, 1);
  assert.equal(refused.stderr, 'ERROR: The "until" filter is not supported with "--volumes"\n');
  const bad = e.skiff(['system', 'prune', '-f', '--filter', 'colour=red']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /invalid filter 'colour'/);
});
