// --user as Docker resolves it against the image's /etc/passwd and /etc/group.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { resolveUser, resolveUserFrom } from '../../../src/engine/index.ts';

const PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
# a comment
app:x:1000:1001:App:/home/app:/bin/sh
`;
const GROUP = `root:x:0:root
daemon:x:1:
wheel:x:10:root,app
staff:x:50:app
appgrp:x:1001:
`;

test('default, names, ids and their groups as moby/sys/user', () => {
  assert.deepEqual(resolveUserFrom(PASSWD, GROUP, ''), { uid: 0, gid: 0, additionalGids: [0, 10] });
  assert.deepEqual(resolveUserFrom(PASSWD, GROUP, 'app'), { uid: 1000, gid: 1001, additionalGids: [10, 50] });
  assert.deepEqual(resolveUserFrom(PASSWD, GROUP, '1000'), {
    uid: 1000,
    gid: 1001,
    additionalGids: [10, 50],
  });
  // An explicit group replaces the primary one and drops the supplementary ones.
  assert.deepEqual(resolveUserFrom(PASSWD, GROUP, 'app:staff'), { uid: 1000, gid: 50, additionalGids: [] });
  assert.deepEqual(resolveUserFrom(PASSWD, GROUP, 'app:10'), { uid: 1000, gid: 10, additionalGids: [] });
  assert.deepEqual(resolveUserFrom(PASSWD, GROUP, 'daemon:4242'), { uid: 1, gid: 4242, additionalGids: [] });
});

test('numeric ids that no file lists are allowed; unknown names are refused', () => {
  assert.deepEqual(resolveUserFrom(PASSWD, GROUP, '4242'), { uid: 4242, gid: 0, additionalGids: [] });
  assert.deepEqual(resolveUserFrom(PASSWD, GROUP, '4242:4343'), { uid: 4242, gid: 4343, additionalGids: [] });
  assert.deepEqual(resolveUserFrom(undefined, undefined, '7:8'), { uid: 7, gid: 8, additionalGids: [] });
  assert.throws(
    () => resolveUserFrom(PASSWD, GROUP, 'nobody'),
    /unable to find user nobody: no matching entries in passwd file/,
  );
  assert.throws(
    () => resolveUserFrom(PASSWD, GROUP, 'app:nogroup'),
    /unable to find group nogroup: no matching entries in group file/,
  );
  assert.throws(() => resolveUserFrom(undefined, undefined, 'app'), /unable to find user app/);
  assert.throws(() => resolveUserFrom(PASSWD, GROUP, '99999999999'), /out of range/);
});

test('resolveUser reads the rootfs files and never follows a symlink out of the rootfs', () => {
  const base = mkdtempSync(path.join(tmpdir(), 'skiff-user-'));
  after(() => rmSync(base, { recursive: true, force: true }));
  const hostile = path.join(base, 'hostile');
  const host = path.join(base, 'host-etc');
  mkdirSync(path.join(hostile, 'etc'), { recursive: true });
  mkdirSync(host);
  writeFileSync(path.join(host, 'passwd'), 'evil:x:0:0::/:/bin/sh\n');
  symlinkSync(path.join(host, 'passwd'), path.join(hostile, 'etc', 'passwd'));
  symlinkSync('../../../../../host-etc/group', path.join(hostile, 'etc', 'group'));
  // Through the links, the host's passwd would make "evil" root; inside the rootfs there is none.
  assert.throws(() => resolveUser(hostile, 'evil'), /unable to find user evil/);
  assert.deepEqual(resolveUser(hostile, '0'), { uid: 0, gid: 0, additionalGids: [] });

  const good = path.join(base, 'good');
  mkdirSync(path.join(good, 'real-etc'), { recursive: true });
  symlinkSync('/real-etc', path.join(good, 'etc'));
  writeFileSync(path.join(good, 'real-etc', 'passwd'), PASSWD);
  writeFileSync(path.join(good, 'real-etc', 'group'), GROUP);
  assert.deepEqual(resolveUser(good, 'app'), { uid: 1000, gid: 1001, additionalGids: [10, 50] });
});
