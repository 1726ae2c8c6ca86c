import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { makeBundle, uniqueId } from '../helpers/bundle.ts';
import { skiffRuntime, skiffRuntimeToFiles } from '../helpers/cli.ts';
import { tempDir } from '../helpers/rootfs.ts';

const MiB = 1024 * 1024;

function setUp(t: { after: (fn: () => void) => void }, args: string[]) {
  const bundle = makeBundle(args, (spec) => {
    spec.linux!.resources = { ...spec.linux!.resources, memory: { limit: 64 * MiB } };
  });
  const state = tempDir('skiff-root-');
  const id = uniqueId();
  const rt = (...a: string[]) => skiffRuntime(['--root', state.dir, ...a]);
  t.after(() => {
    rt('delete', '--force', id);
    bundle.cleanup();
    state.cleanup();
  });
  return { bundle, id, rt, root: state.dir };
}

test('ps, pause, resume, update and events --stats from the command line', (t) => {
  const { bundle, id, rt, root } = setUp(t, ['/bin/sh', '-c', '/probe sleep 30 & /probe sleep 30 & wait']);
  // `run -d` leaves the container holding the caller's stdio: files, not pipes.
  const run = skiffRuntimeToFiles(['--root', root, 'run', '-d', '--bundle', bundle.dir, id]);
  assert.equal(run.status, 0, run.stderr);
  const pid = JSON.parse(rt('state', id).stdout).pid as number;

  const pids = JSON.parse(rt('ps', '--format', 'json', id).stdout) as number[];
  assert.ok(pids.includes(pid), `${pids} includes the init ${pid}`);
  const table = rt('ps', id, '--', '-o', 'pid,args');
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, /^\s*PID\s+COMMAND/);
  assert.match(table.stdout, /\/probe sleep 30/);

  assert.equal(rt('pause', id).status, 0);
  assert.equal(JSON.parse(rt('state', id).stdout).status, 'paused');
  assert.match(rt('list').stdout, new RegExp(`^${id}\\s+${pid}\\s+paused\\s`, 'm'));
  const again = rt('pause', id);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /cannot pause container .*: it is paused, not running/);
  assert.equal(rt('resume', id).status, 0);
  assert.equal(JSON.parse(rt('state', id).stdout).status, 'running');

  const update = rt('update', '--memory', '100m', '--pids-limit', '30', '--cpu-shares', '256', id);
  assert.equal(update.status, 0, update.stderr);
  const resources = path.join(bundle.dir, 'resources.json');
  writeFileSync(resources, JSON.stringify({ memory: { limit: 120 * MiB } }));
  assert.equal(rt('update', '-r', resources, id).status, 0);
  const fromStdin = skiffRuntime(['--root', root, 'update', '-r', '-', '--pids-limit', '25', id], {
    input: JSON.stringify({ cpu: { shares: 300 } }),
  });
  assert.equal(fromStdin.status, 0, fromStdin.stderr);
  const bad = rt('update', '--memory', 'lots', id);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /invalid --memory "lots"/);

  const stats = JSON.parse(rt('events', '--stats', id).stdout);
  assert.equal(stats.type, 'stats');
  assert.equal(stats.id, id);
  assert.equal(stats.data.memory.usage.limit, 120 * MiB, 'the last update is what the cgroup holds');
  assert.equal(stats.data.pids.limit, 25);
  assert.equal(stats.data.pids.current, 3);
  const record = JSON.parse(readFileSync(path.join(root, id, 'state.json'), 'utf8'));
  assert.deepEqual(record.resources.memory, { limit: 120 * MiB });
  assert.equal(record.resources.cpu.shares, 300);

  assert.equal(rt('pause', id).status, 0);
  assert.equal(rt('delete', '--force', id).status, 0, 'a paused container can be force-deleted');
  assert.equal(rt('state', id).status, 1);
});

test('events streams stats and ends when the container stops', (t) => {
  const { bundle, id, root } = setUp(t, ['/bin/sh', '-c', 'sleep 1']);
  const run = skiffRuntimeToFiles(['--root', root, 'run', '-d', '--bundle', bundle.dir, id]);
  assert.equal(run.status, 0, run.stderr);
  const begin = Date.now();
  const events = skiffRuntimeToFiles(['--root', root, 'events', '--interval', '200ms', id]);
  assert.equal(events.status, 0, events.stderr);
  assert.ok(Date.now() - begin < 5000, 'events returned once the container stopped');
  const lines = events.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.ok(lines.length >= 2, events.stdout);
  assert.ok(lines.every((e) => e.type === 'stats' && e.id === id));
});

test('features prints the OCI features document', () => {
  const result = skiffRuntime(['features']);
  assert.equal(result.status, 0, result.stderr);
  const doc = JSON.parse(result.stdout);
  assert.equal(doc.ociVersionMin, '1.0.0');
  assert.ok(doc.hooks.includes('createContainer'));
  assert.ok(doc.linux.capabilities.includes('CAP_SYS_ADMIN'));
  assert.equal(typeof doc.linux.cgroup.v2, 'boolean');
  assert.equal(doc.linux.seccomp.enabled, true);
  assert.ok(doc.linux.seccomp.actions.includes('SCMP_ACT_NOTIFY'));
  assert.ok(doc.linux.seccomp.operators.includes('SCMP_CMP_MASKED_EQ'));
});

test('run --keep and kill --all from the command line', (t) => {
  const { bundle, id, rt, root } = setUp(t, ['/probe', 'exit', '7']);
  const run = skiffRuntimeToFiles(['--root', root, 'run', '--keep', '--bundle', bundle.dir, id]);
  assert.equal(run.status, 7);
  assert.equal(JSON.parse(rt('state', id).stdout).status, 'stopped');
  assert.equal(rt('delete', id).status, 0);

  const second = uniqueId();
  const b2 = makeBundle(['/bin/sh', '-c', "trap '' TERM; /probe sleep 30 & /probe sleep 30 & wait"]);
  t.after(() => {
    rt('delete', '--force', second);
    b2.cleanup();
  });
  assert.equal(skiffRuntimeToFiles(['--root', root, 'run', '-d', '--bundle', b2.dir, second]).status, 0);
  const deadline = Date.now() + 3000;
  while (JSON.parse(rt('ps', '--format', 'json', second).stdout).length < 3 && Date.now() < deadline);
  assert.equal(rt('kill', '--all', second, 'KILL').status, 0);
  const until = Date.now() + 3000;
  while (JSON.parse(rt('state', second).stdout).status !== 'stopped' && Date.now() < until);
  assert.equal(JSON.parse(rt('state', second).stdout).status, 'stopped');
  // Here, not in t.after: setUp's clean-up (registered first) removes the state root.
  assert.equal(rt('delete', second).status, 0);
});
