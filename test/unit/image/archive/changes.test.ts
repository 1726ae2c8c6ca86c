import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyChanges, detectCompression, goTime } from '../../../../src/image/index.ts';

test('CMD and ENTRYPOINT take the exec form, or the shell form through /bin/sh -c', () => {
  const c = applyChanges({}, ['CMD ["/hello", "a b"]', 'ENTRYPOINT echo $HOME']);
  assert.deepEqual(c.Cmd, ['/hello', 'a b']);
  assert.deepEqual(c.Entrypoint, ['/bin/sh', '-c', 'echo $HOME']);
});

test('ENV and LABEL take k=v pairs (quoted values) and the legacy `k v`; a later ENV replaces', () => {
  const c = applyChanges({ Env: ['PATH=/bin'] }, [
    'ENV A=1 B="x y"',
    'env PATH /usr/bin:/bin',
    "LABEL a=b c='d e'",
  ]);
  assert.deepEqual(c.Env, ['A=1', 'B=x y', 'PATH=/usr/bin:/bin']);
  assert.deepEqual(c.Labels, { a: 'b', c: 'd e' });
});

test('EXPOSE, USER and WORKDIR', () => {
  const c = applyChanges({}, ['EXPOSE 80 53/udp', 'USER 1000:1000', 'WORKDIR /srv']);
  assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
  assert.equal(c.User, '1000:1000');
  assert.equal(c.WorkingDir, '/srv');
});

test('bad changes are refused naming the change', () => {
  assert.throws(
    () => applyChanges({}, ['RUN rm -rf /']),
    /change\[0\] `RUN rm -rf \/`: `RUN` cannot be changed/,
  );
  assert.throws(() => applyChanges({}, ['EXPOSE 70000']), /`70000` is not a port/);
  assert.throws(() => applyChanges({}, ['WORKDIR srv']), /WORKDIR must be an absolute path/);
  assert.throws(() => applyChanges({}, ['CMD [1, 2]']), /JSON array of strings/);
  assert.throws(() => applyChanges({}, ['ENV A=1 =x']), /cannot parse/);
  assert.throws(() => applyChanges({}, ['CMD']), /expected `INSTRUCTION arguments`/);
});

test('the base config is not modified', () => {
  const base = { Env: ['A=1'] };
  applyChanges(base, ['ENV A=2']);
  assert.deepEqual(base, { Env: ['A=1'] });
});

test('compression is detected by magic bytes', () => {
  assert.equal(detectCompression(Buffer.from([0x1f, 0x8b, 8, 0])), 'gzip');
  assert.equal(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), 'zstd');
  assert.equal(detectCompression(Buffer.from('ustar')), 'none');
  assert.equal(detectCompression(Buffer.alloc(0)), 'none');
});

test('times are written as Go writes them, so Go tools re-encode configs to the same bytes', () => {
  assert.equal(goTime(new Date('2026-11-23T14:09:27.870Z')), '2026-11-23T14:09:27.87Z');
  assert.equal(goTime(new Date('2026-11-23T14:09:27.800Z')), '2026-11-23T14:09:27.8Z');
  assert.equal(goTime(new Date('2026-11-23T14:09:27.000Z')), '2026-11-23T14:09:27Z');
  assert.equal(goTime(new Date('2026-11-23T14:09:27.123Z')), '2026-11-23T14:09:27.123Z');
});
