import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { checkSpec, defaultSpec, OCI_RUNTIME_SPEC_VERSION, type Spec } from '../../../src/oci/index.ts';

test("the default spec is runc 1.1's example with our hostname and version", () => {
  const spec = defaultSpec({ cgroupNamespace: false });
  assert.equal(spec.ociVersion, OCI_RUNTIME_SPEC_VERSION);
  assert.equal(spec.hostname, 'skiff');
  assert.deepEqual(spec.process?.args, ['sh']);
  assert.equal(spec.process?.terminal, true);
  assert.deepEqual(spec.process?.capabilities, {
    bounding: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
    effective: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
    permitted: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
    ambient: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
  });
  assert.deepEqual(spec.root, { path: 'rootfs', readonly: true });
  assert.deepEqual(
    spec.mounts?.map((m) => m.destination),
    ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup'],
  );
  assert.deepEqual(
    spec.linux?.namespaces?.map((ns) => ns.type),
    ['pid', 'network', 'ipc', 'uts', 'mount'],
  );
  assert.deepEqual(spec.linux?.resources, { devices: [{ allow: false, access: 'rwm' }] });
  assert.equal(spec.linux?.uidMappings, undefined);
});

test('a cgroup namespace is added on request (by default on a cgroup v2 host)', () => {
  const spec = defaultSpec({ cgroupNamespace: true });
  assert.deepEqual(spec.linux?.namespaces?.at(-1), { type: 'cgroup' });
});

test('rootless: a user namespace mapping root to the caller, no network namespace, /sys bound', () => {
  const spec = defaultSpec({ rootless: true, cgroupNamespace: false, hostUid: 1000, hostGid: 1001 });
  assert.deepEqual(
    spec.linux?.namespaces?.map((ns) => ns.type),
    ['pid', 'ipc', 'uts', 'mount', 'user'],
  );
  assert.deepEqual(spec.linux?.uidMappings, [{ containerID: 0, hostID: 1000, size: 1 }]);
  assert.deepEqual(spec.linux?.gidMappings, [{ containerID: 0, hostID: 1001, size: 1 }]);
  assert.equal(spec.linux?.resources, undefined);
  assert.deepEqual(
    spec.mounts?.find((m) => m.destination === '/sys'),
    {
      destination: '/sys',
      type: 'none',
      source: '/sys',
      options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'],
    },
  );
  const devpts = spec.mounts?.find((m) => m.destination === '/dev/pts');
  assert.deepEqual(devpts?.options, ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620']);
  assert.deepEqual(checkSpec(spec), []);
});

test('rootless maps the effective ids by default', () => {
  const spec = defaultSpec({ rootless: true });
  assert.equal(spec.linux?.uidMappings?.[0]?.hostID, process.geteuid!());
  assert.equal(spec.linux?.gidMappings?.[0]?.hostID, process.getegid!());
});

test('each call returns a fresh object', () => {
  const a = defaultSpec();
  a.process!.capabilities!.bounding!.push('CAP_SYS_ADMIN');
  a.mounts![0]!.destination = '/x';
  assert.deepEqual(defaultSpec().process!.capabilities!.bounding, [
    'CAP_AUDIT_WRITE',
    'CAP_KILL',
    'CAP_NET_BIND_SERVICE',
  ]);
  assert.equal(defaultSpec().mounts![0]!.destination, '/proc');
});

/** `runc spec [--rootless]` output, or undefined when runc is not installed. */
function runcSpec(rootless: boolean): string | undefined {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-runc-spec-'));
  try {
    execFileSync('runc', ['spec', '--bundle', dir, ...(rootless ? ['--rootless'] : [])], { stdio: 'pipe' });
    return readFileSync(path.join(dir, 'config.json'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runcVersion(): string | undefined {
  try {
    return /runc version (\S+)/.exec(execFileSync('runc', ['--version'], { encoding: 'utf8' }))?.[1];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

const version = runcVersion();
for (const rootless of [false, true]) {
  test(`byte for byte as \`runc spec${rootless ? ' --rootless' : ''}\` but for hostname and ociVersion`, {
    skip: version?.startsWith('1.1.') ? false : `needs runc 1.1 (found ${version ?? 'none'})`,
  }, () => {
    const expected = runcSpec(rootless)!;
    const runc = JSON.parse(expected) as Spec;
    const mine = defaultSpec({
      rootless,
      cgroupNamespace: runc.linux?.namespaces?.some((ns) => ns.type === 'cgroup') ?? false,
    });
    // Overwriting keeps each key where it is, so the key order is still ours.
    const asRunc = { ...mine, ociVersion: runc.ociVersion, hostname: 'runc' };
    assert.equal(JSON.stringify(asRunc, null, '\t'), expected);
  });
}
