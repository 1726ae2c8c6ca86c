import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { Logger } from '../../../src/common/index.ts';
import type { Hook, Hooks, State } from '../../../src/oci/index.ts';
import { Runtime } from '../../../src/runtime/index.ts';
import { makeBundle, makeRuntime, runContainer, uniqueId } from '../../helpers/bundle.ts';
import { cgroupDirsNamed } from '../../helpers/host.ts';
import { tempDir } from '../../helpers/rootfs.ts';

const { runtime, root, cleanup } = makeRuntime();
after(cleanup);

const hostDir = tempDir('skiff-hooks-');
after(hostDir.cleanup);
chmodSync(hostDir.dir, 0o755);

/** A host script that records its stdin (the state), its args, its env and its mount namespace. */
const RECORDER = path.join(hostDir.dir, 'record.sh');
writeFileSync(
  RECORDER,
  `#!/bin/sh
out="$1"; shift
cat > "$out.state"
echo "$@" > "$out.args"
env > "$out.env"
readlink /proc/self/ns/mnt > "$out.mntns"
date +%s%N > "$out.time"
`,
);
chmodSync(RECORDER, 0o755);

const record = (name: string, extra: Partial<Hook> = {}): Hook => ({
  path: RECORDER,
  args: ['record.sh', path.join(hostDir.dir, name), 'a1', 'a 2'],
  env: [`HOOK_NAME=${name}`],
  ...extra,
});
const failing = (status: number): Hook => ({ path: '/bin/sh', args: ['sh', '-c', `exit ${status}`] });
const read = (name: string, kind: string) => readFileSync(path.join(hostDir.dir, `${name}.${kind}`), 'utf8');
const stateOf = (name: string) => JSON.parse(read(name, 'state')) as State;

function bundleWith(hooks: Hooks, args = ['/probe', 'sleep', '30']) {
  return makeBundle(args, (spec) => {
    spec.hooks = hooks;
  });
}

test('every hook runs at its lifecycle step with the state on stdin, its args and env', async (t) => {
  const tag = uniqueId('h');
  const name = (kind: string) => `${tag}-${kind}`;
  const bundle = bundleWith({
    prestart: [record(name('prestart'))],
    createRuntime: [record(name('createRuntime'))],
    createContainer: [record(name('createContainer'))],
    // Resolved inside the container: the busybox shell of its rootfs writes into the rootfs.
    startContainer: [
      {
        path: '/bin/sh',
        args: [
          'sh',
          '-c',
          'cat > /startContainer.state; echo >> /startContainer.state; readlink /proc/self/ns/mnt >> /startContainer.state',
        ],
      },
    ],
    poststart: [record(name('poststart'))],
    poststop: [record(name('poststop'))],
  });
  const id = uniqueId();
  t.after(async () => {
    await runtime.delete(id, { force: true }).catch(() => {});
    bundle.cleanup();
  });
  await runtime.create({ id, bundle: bundle.dir, stdio: ['ignore', 'ignore', 'ignore'] });
  const pid = (await runtime.state(id)).pid!;
  const hostMnt = readlinkSync('/proc/self/ns/mnt');
  const containerMnt = readlinkSync(`/proc/${pid}/ns/mnt`);

  for (const kind of ['prestart', 'createRuntime', 'createContainer']) {
    const state = stateOf(name(kind));
    assert.equal(state.id, id);
    assert.equal(state.status, 'creating', kind);
    assert.equal(state.pid, pid, `${kind} gets the init's host pid`);
    assert.equal(state.bundle, bundle.dir);
    assert.equal(read(name(kind), 'args').trim(), 'a1 a 2');
    assert.match(read(name(kind), 'env'), new RegExp(`^HOOK_NAME=${name(kind)}$`, 'm'));
  }
  assert.equal(
    read(name('createRuntime'), 'mntns').trim(),
    hostMnt,
    'createRuntime runs in the runtime namespace',
  );
  assert.equal(
    read(name('createContainer'), 'mntns').trim(),
    containerMnt,
    'createContainer runs in the container',
  );
  assert.ok(!existsSync(path.join(bundle.rootfs, 'startContainer.state')), 'startContainer waits for start');
  assert.ok(!existsSync(path.join(hostDir.dir, `${name('poststart')}.state`)));

  await runtime.start(id);
  const started = readFileSync(path.join(bundle.rootfs, 'startContainer.state'), 'utf8');
  const [json, mnt] = started.split('\n');
  assert.equal((JSON.parse(json!) as State).pid, pid);
  assert.equal(mnt, containerMnt, 'startContainer runs in the container');
  const poststart = stateOf(name('poststart'));
  assert.equal(poststart.status, 'running');
  assert.equal(poststart.pid, pid);
  assert.equal(read(name('poststart'), 'mntns').trim(), hostMnt);
  assert.ok(!existsSync(path.join(hostDir.dir, `${name('poststop')}.state`)), 'poststop waits for delete');

  await runtime.kill(id, 'SIGKILL');
  await new Promise((resolve) => setTimeout(resolve, 100));
  await runtime.delete(id);
  const poststop = stateOf(name('poststop'));
  assert.equal(poststop.status, 'stopped');
  // prestart → createRuntime → createContainer → poststart → poststop, in time.
  const times = ['prestart', 'createRuntime', 'createContainer', 'poststart', 'poststop'].map((k) =>
    BigInt(read(name(k), 'time').trim()),
  );
  assert.deepEqual(
    [...times].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
    times,
  );
});

test('startContainer runs before the program', async (t) => {
  const bundle = bundleWith(
    { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'echo from-hook > /before'] }] },
    ['/probe', 'cat', '/before'],
  );
  t.after(bundle.cleanup);
  const result = await runContainer(runtime, bundle);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, 'from-hook\n');
});

for (const kind of ['prestart', 'createRuntime', 'createContainer'] as const) {
  test(`a failing ${kind} hook fails the create and leaves nothing behind`, async (t) => {
    const bundle = bundleWith({ [kind]: [failing(3)] });
    const id = uniqueId();
    t.after(bundle.cleanup);
    await assert.rejects(
      runtime.create({ id, bundle: bundle.dir, stdio: ['ignore', 'ignore', 'ignore'] }),
      new RegExp(`${kind}(\\[0\\])? hook.* exited with status 3`),
    );
    await assert.rejects(runtime.state(id), /does not exist/);
    assert.equal(cgroupDirsNamed(bundle.spec.linux!.cgroupsPath!.slice(1)).length, 0);
  });
}

test('a hook that overruns its timeout is killed and fails the create', async (t) => {
  for (const kind of ['createRuntime', 'createContainer'] as const) {
    const bundle = bundleWith({ [kind]: [{ path: '/bin/sleep', args: ['sleep', '20'], timeout: 1 }] });
    t.after(bundle.cleanup);
    const id = uniqueId();
    const begin = Date.now();
    await assert.rejects(
      runtime.create({ id, bundle: bundle.dir, stdio: ['ignore', 'ignore', 'ignore'] }),
      /timed out after 1 s|did not finish within its timeout of 1 s/,
    );
    const took = Date.now() - begin;
    assert.ok(took >= 1000 && took < 5000, `${kind}: failed after ${took} ms`);
    await assert.rejects(runtime.state(id), /does not exist/);
  }
});

test('a failing startContainer hook stops the container before its program runs', async (t) => {
  const bundle = bundleWith({ startContainer: [failing(4)] }, ['/bin/sh', '-c', 'echo program-ran > /ran']);
  t.after(bundle.cleanup);
  const result = await runContainer(runtime, bundle);
  assert.equal(result.status, 1);
  assert.match(result.stderr, /exited with status 4/);
  assert.ok(!existsSync(path.join(bundle.rootfs, 'ran')), 'the program did not run');
});

test('poststart and poststop failures are warnings: start and delete succeed', async (t) => {
  const lines: string[] = [];
  const logged = new Runtime({ root, logger: new Logger({ sink: { write: (l) => lines.push(l) } }) });
  const bundle = bundleWith({ poststart: [failing(5)], poststop: [failing(6), record(uniqueId('after'))] });
  const id = uniqueId();
  t.after(async () => {
    await logged.delete(id, { force: true }).catch(() => {});
    bundle.cleanup();
  });
  await logged.create({ id, bundle: bundle.dir, stdio: ['ignore', 'ignore', 'ignore'] });
  await logged.start(id);
  assert.equal((await logged.state(id)).status, 'running');
  await logged.delete(id, { force: true });
  await assert.rejects(logged.state(id), /does not exist/);
  const text = lines.join('\n');
  assert.match(text, /poststart\[0\] hook `\/bin\/sh` exited with status 5/);
  assert.match(text, /poststop\[0\] hook `\/bin\/sh` exited with status 6/);
  const after = bundle.spec.hooks!.poststop![1]!.args![1]!;
  assert.ok(existsSync(`${after}.state`), 'the remaining poststop hooks still ran');
});

test('in a user namespace the init gets the state without reaching the state directory', async (t) => {
  // The runtime root is a 0700 mkdtemp directory: the container's mapped root cannot enter it.
  const out = tempDir('skiff-hooks-userns-');
  t.after(out.cleanup);
  chmodSync(out.dir, 0o777);
  const bundle = makeBundle(['/bin/sh', '-c', 'cat /tmp/start.state'], (spec) => {
    spec.linux!.namespaces!.push({ type: 'user' });
    spec.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    spec.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    spec.hooks = {
      createContainer: [
        {
          path: '/bin/sh',
          args: ['sh', '-c', `cat > ${out.dir}/create.state; id -u >> ${out.dir}/create.state`],
        },
      ],
      startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'cat > /tmp/start.state'] }],
    };
  });
  t.after(bundle.cleanup);
  const result = await runContainer(runtime, bundle);
  assert.equal(result.status, 0, result.stderr);
  assert.equal((JSON.parse(result.stdout) as State).status, 'created');
  const text = readFileSync(path.join(out.dir, 'create.state'), 'utf8');
  const end = text.lastIndexOf('}') + 1;
  assert.equal((JSON.parse(text.slice(0, end)) as State).status, 'creating');
  assert.equal(text.slice(end).trim(), '0', 'createContainer runs as the container root');
});
