// A create killed (kill -9 of the caller) while it makes the container's cgroup: state.json names the
// cgroupsPath but not yet the cgroup, and `delete --force` must still remove what was made. The
// state the killed create leaves is written here as create writes it, with real cgroup directories.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { makeRuntime, uniqueId } from '../../helpers/bundle.ts';
import { cgroupDirsNamed } from '../../helpers/host.ts';

const { runtime, root, cleanup } = makeRuntime();
after(cleanup);

test('delete --force removes the cgroup of a create killed before state.json named it', async () => {
  const id = uniqueId();
  const cgroupsPath = `/skiff-test/${id}`;
  await runtime.store.reserve(id);
  await runtime.store.write({
    id,
    bundle: '/nonexistent',
    rootfs: '/nonexistent/rootfs',
    created: new Date().toISOString(),
    owner: 'root',
    annotations: {},
    cgroupsPath,
  });
  // Part of the cgroup, as a create killed half-way through making it leaves it.
  const made = ['memory', 'pids', 'unified']
    .map((h) => path.join('/sys/fs/cgroup', h, cgroupsPath))
    .filter((dir) => existsSync(path.dirname(path.dirname(dir))));
  for (const dir of made) mkdirSync(dir, { recursive: true });
  assert.ok(made.length > 0);
  assert.equal(cgroupDirsNamed(id).length, made.length);
  await runtime.delete(id, { force: true });
  assert.deepEqual(cgroupDirsNamed(id), [], 'no cgroup left');
  assert.equal(existsSync(path.join(root, id)), false, 'no state directory left');
  // The test's parent cgroup (/skiff-test), unless another test uses it meanwhile.
  for (const dir of made) {
    try {
      rmdirSync(path.dirname(dir));
    } catch {
      // in use, or gone
    }
  }
});
