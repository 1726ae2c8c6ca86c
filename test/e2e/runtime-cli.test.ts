import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { OCI_RUNTIME_SPEC_VERSION } from '../../src/oci/index.ts';
import { makeBundle, uniqueId } from '../helpers/bundle.ts';
import { skiffRuntime, skiffRuntimeToFiles } from '../helpers/cli.ts';
import { tempDir } from '../helpers/rootfs.ts';

test("spec writes runc's default config.json and refuses to overwrite it", (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  assert.equal(skiffRuntime(['spec', '--bundle', dir]).status, 0);
  const spec = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
  assert.deepEqual(spec.process.args, ['sh']);
  assert.equal(spec.root.path, 'rootfs');
  const again = skiffRuntime(['spec', '-b', dir]);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /already exists/);
  const rootless = tempDir();
  t.after(rootless.cleanup);
  assert.equal(skiffRuntime(['spec', '--rootless', '--bundle', rootless.dir]).status, 0);
  const rootlessSpec = JSON.parse(readFileSync(path.join(rootless.dir, 'config.json'), 'utf8'));
  assert.ok(rootlessSpec.linux.namespaces.some((n: { type: string }) => n.type === 'user'));
});

test('create, start, state, list, kill and delete from the command line', (t) => {
  const bundle = makeBundle(['/probe', 'sleep', '30']);
  const state = tempDir('skiff-root-');
  t.after(() => {
    skiffRuntime(['--root', state.dir, 'delete', '--force', id]);
    bundle.cleanup();
    state.cleanup();
  });
  const id = uniqueId();
  const pidFile = path.join(bundle.dir, 'pid');
  const rt = (...args: string[]) => skiffRuntime(['--root', state.dir, ...args]);

  const create = skiffRuntimeToFiles([
    '--root',
    state.dir,
    'create',
    '--bundle',
    bundle.dir,
    '--pid-file',
    pidFile,
    id,
  ]);
  assert.equal(create.status, 0, create.stderr);
  const created = JSON.parse(rt('state', id).stdout);
  assert.equal(created.status, 'created');
  assert.equal(created.id, id);
  assert.equal(created.ociVersion, OCI_RUNTIME_SPEC_VERSION);
  assert.equal(readFileSync(pidFile, 'utf8'), String(created.pid));

  assert.equal(rt('start', id).status, 0);
  assert.equal(JSON.parse(rt('state', id).stdout).status, 'running');
  const table = rt('list').stdout;
  assert.match(table, /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER$/m);
  assert.match(table, new RegExp(`^${id}\\s+${created.pid}\\s+running\\s+${bundle.dir}`, 'm'));
  assert.equal(JSON.parse(rt('list', '--format', 'json').stdout)[0].id, id);

  const refused = rt('delete', id);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /running/);
  assert.equal(rt('kill', id, 'KILL').status, 0);
  assert.equal(rt('delete', '--force', id).status, 0);
  assert.match(rt('state', id).stderr, /does not exist/);
});

test("run in the foreground gives the container's output and exit code", (t) => {
  const bundle = makeBundle(['/bin/sh', '-c', 'echo out; echo err >&2; exit 3']);
  const state = tempDir('skiff-root-');
  t.after(() => {
    bundle.cleanup();
    state.cleanup();
  });
  const result = skiffRuntime(['--root', state.dir, 'run', '-b', bundle.dir, uniqueId()]);
  assert.equal(result.status, 3);
  assert.equal(result.stdout, 'out\n');
  assert.equal(result.stderr, 'err\n');
});

test("errors go to --log as runc's JSON lines, and the exit status is 1", (t) => {
  const state = tempDir('skiff-root-');
  t.after(state.cleanup);
  const log = path.join(state.dir, 'log.json');
  const result = skiffRuntime(['--root', state.dir, '--log', log, '--log-format', 'json', 'start', 'nope']);
  assert.equal(result.status, 1);
  const entry = JSON.parse(readFileSync(log, 'utf8').trim().split('\n').at(-1)!);
  assert.equal(entry.level, 'error');
  assert.match(entry.msg, /container "nope" does not exist/);
});

test('wrong flags and arguments are explained', () => {
  const unknown = skiffRuntime(['create', '--bogus', 'x']);
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /bogus/);
  assert.match(unknown.stderr, /usage: skiff-runtime create/);
  assert.match(skiffRuntime(['frobnicate']).stderr, /unknown command "frobnicate"/);
  assert.match(skiffRuntime(['kill', 'id', 'SIGNOPE']).stderr, /unknown signal "SIGNOPE"/);
  assert.match(skiffRuntime(['--version']).stdout, /^skiff-runtime version .*\nspec: \d+\.\d+\.\d+\n$/);
});
