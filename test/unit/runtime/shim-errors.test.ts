import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withErrnoName } from '../../../src/runtime/shim.ts';

test("the shim's errors name the errno first, then strerror's text, as crun prints them", () => {
  assert.equal(
    withErrnoName('mount `/proc`: Operation not permitted', 'EPERM'),
    'mount `/proc`: EPERM (Operation not permitted)',
  );
  assert.equal(
    withErrnoName('mount `/data`: bind source `/x`: No such file or directory', 'ENOENT'),
    'mount `/data`: bind source `/x`: ENOENT (No such file or directory)',
  );
  assert.equal(withErrnoName('plan is malformed', undefined), 'plan is malformed');
  assert.equal(withErrnoName('odd', 'EIO'), 'odd (EIO)');
});
