// `skiff run` with volumes and mounts, attach, exec with a terminal, and detached --rm: what a user
// does with docker every day, through the bundled CLI against a temporary engine root.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { engineEnv, terminalSession } from '../helpers/engine.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('skiff run: mounts, attach, exec -it, detached --rm', async (t) => {
  const e = await engineEnv(t);

  await t.test('a named volume is copied up from the image, persists, and rm -v keeps it', () => {
    const first = e.skiff([
      'run',
      '--rm',
      '-v',
      'data:/etc',
      'busybox',
      'sh',
      '-c',
      'cat /etc/group; echo kept > /etc/mine',
    ]);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /^root:x:0:/m, 'the image content at /etc was copied into the new volume');
    const second = e.skiff([
      'run',
      '--rm',
      '-v',
      'data:/data:ro',
      'busybox',
      'sh',
      '-c',
      'cat /data/mine; touch /data/x',
    ]);
    assert.equal(second.stdout, 'kept\n');
    assert.match(second.stderr, /Read-only file system/);
    assert.equal(e.skiff(['volume', 'inspect', '-f', '{{.Name}}', 'data']).stdout, 'data\n');
    assert.equal(e.skiff(['volume', 'rm', 'data']).status, 0);
  });

  await t.test('bind mounts (-v and --mount), --tmpfs and --read-only', () => {
    const host = mkdtempSync(path.join(tmpdir(), 'skiff-bind-'));
    t.after(() => rmSync(host, { recursive: true, force: true }));
    writeFileSync(path.join(host, 'in'), 'from the host\n');
    const r = e.skiff([
      'run',
      '--rm',
      '--read-only',
      '-v',
      `${host}:/host`,
      '--mount',
      `type=bind,source=${host},target=/ro,readonly`,
      '--tmpfs',
      '/scratch:size=1m',
      'busybox',
      'sh',
      '-c',
      'cat /host/in; echo out > /host/out; touch /ro/x 2>/dev/null || echo ro-refused; touch /etc/x 2>/dev/null || echo rootfs-refused; echo t > /scratch/t && grep /scratch /proc/mounts',
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^from the host$/m);
    assert.match(r.stdout, /^ro-refused$/m);
    assert.match(r.stdout, /^rootfs-refused$/m);
    assert.match(r.stdout, /tmpfs \/scratch tmpfs .*size=1024k/);
    assert.equal(readFileSync(path.join(host, 'out'), 'utf8'), 'out\n');
  });

  await t.test('an anonymous volume goes with rm -v', () => {
    const id = e.skiff(['create', '-v', '/anon', 'busybox', 'true']).stdout.trim();
    const name = e.skiff(['inspect', '-f', '{{range .Mounts}}{{.Name}}{{end}}', id]).stdout.trim();
    assert.match(name, /^[0-9a-f]{64}$/);
    assert.equal(e.skiff(['rm', '-v', id]).status, 0);
    assert.equal(e.skiff(['volume', 'ls', '-q']).stdout.includes(name), false);
  });

  await t.test('attach to a running container sees its later output and returns its exit code', async () => {
    e.skiff([
      'run',
      '-d',
      '--name',
      'talker',
      'busybox',
      'sh',
      '-c',
      'sleep 1; echo late; echo oops >&2; exit 3',
    ]);
    const attached = e.skiff(['attach', 'talker']);
    assert.equal(attached.status, 3, attached.stderr);
    assert.equal(attached.stdout, 'late\n');
    assert.equal(attached.stderr, 'oops\n');
    assert.equal(e.skiff(['logs', 'talker']).stdout, 'late\n');
    e.skiff(['rm', 'talker']);
  });

  await t.test('exec -it gets a terminal of its own', async () => {
    e.skiff(['run', '-d', '--name', 'box', 'busybox', 'sleep', '60']);
    const term = terminalSession(e, ['exec', '-it', 'box', 'sh']);
    await term.waitFor('#');
    term.type('tty; echo sum-$((2+3))\r');
    const output = await term.waitFor('sum-5');
    term.type('exit 2\r');
    assert.equal(await term.exited, 2);
    assert.match(output, /\/dev\/pts\/\d+/);
    e.skiff(['rm', '-f', 'box']);
  });

  await t.test("run -d --rm: the monitor's cleanup removes the container when it exits", async () => {
    const id = e.skiff(['run', '-d', '--rm', 'busybox', 'true']).stdout.trim();
    for (let i = 0; i < 100 && e.skiff(['ps', '-aq', '--no-trunc']).stdout.includes(id); i++)
      await sleep(100);
    assert.equal(e.skiff(['ps', '-aq', '--no-trunc']).stdout.includes(id), false);
    assert.equal(existsSync(path.join(e.root, 'containers', id)), false);
  });
});
