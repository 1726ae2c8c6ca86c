// The service's hello (native/tools/client.c writes it; src/cli/service/protocol.ts reads it).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseHello } from '../../../src/cli/service/protocol.ts';

const hello = (...fields: string[]) => Buffer.from(fields.map((f) => `${f}\0`).join(''));

test('a hello carries cwd, terminals, window size, argv and the environment', () => {
  const h = parseHello(
    hello('/srv', '1 0 1', '24 80', '3', 'run', '--rm', 'a=b', 'HOME=/root', 'X=y=z', 'junk'),
  );
  assert.deepEqual(h, {
    cwd: '/srv',
    tty: [true, false, true],
    rows: 24,
    columns: 80,
    argv: ['run', '--rm', 'a=b'],
    env: { HOME: '/root', X: 'y=z' },
  });
});

test('a hello without its fixed fields is refused', () => {
  assert.throws(() => parseHello(hello('/srv', '0 0 0')), /hello without cwd/);
  assert.throws(() => parseHello(hello('/srv', '0 0 0', '0 0', 'many')), /argument count/);
  assert.throws(() => parseHello(Buffer.alloc(0)), /hello without/);
});
