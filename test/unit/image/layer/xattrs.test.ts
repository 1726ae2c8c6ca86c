import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isArchiveXattrAllowed } from '../../../../src/image/layer/index.ts';
import { entryXattrs, parsePaxRecords } from '../../../../src/image/layer/xattrs.ts';
import { paxRecord } from '../../../helpers/tar.ts';

test('PAX records keep binary values byte for byte (security.capability is not UTF-8)', () => {
  const cap = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x00, 0x04, 0x00, 0x00, 0xff, 0xfe, 0x80, 0x0a]);
  const buf = Buffer.concat([
    paxRecord('path', Buffer.from('usr/bin/ping')),
    paxRecord('SCHILY.xattr.security.capability', cap),
    Buffer.alloc(100), // tar's padding
  ]);
  const records = parsePaxRecords(buf);
  assert.equal(records.get('path')?.toString(), 'usr/bin/ping');
  assert.deepEqual(records.get('SCHILY.xattr.security.capability'), cap);
  assert.deepEqual([...entryXattrs(records).keys()], ['security.capability']);
});

test('an archive may not set overlayfs xattrs or kernel-interface system.* names', () => {
  assert.equal(isArchiveXattrAllowed('trusted.overlay.opaque'), false);
  assert.equal(isArchiveXattrAllowed('trusted.overlay.redirect'), false);
  assert.equal(isArchiveXattrAllowed('system.sockprotoname'), false);
  assert.equal(isArchiveXattrAllowed('security.capability'), true);
  assert.equal(isArchiveXattrAllowed('security.selinux'), true);
  assert.equal(isArchiveXattrAllowed('user.mime'), true);
  assert.equal(isArchiveXattrAllowed('system.posix_acl_access'), true);
  const records = new Map([
    ['SCHILY.xattr.trusted.overlay.opaque', Buffer.from('y')],
    ['SCHILY.xattr.user.a', Buffer.from('1')],
  ]);
  assert.deepEqual([...entryXattrs(records).keys()], ['user.a']);
});
