// Specs from buildSpec run by the runtime, looked at from inside: Docker's defaults and flags hold.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import {
  buildSpec,
  type ContainerConfig,
  createWorkingDir,
  type HostConfig,
  hostnameFile,
  hostsFile,
  type ResolvedMount,
  resolvConfFile,
  resolveUser,
} from '../../../src/engine/index.ts';
import { makeRuntime, runContainer, type TestBundle, uniqueId } from '../../helpers/bundle.ts';
import { makeRootfs, tempDir } from '../../helpers/rootfs.ts';

const { runtime, cleanup } = makeRuntime();
after(cleanup);

interface Case {
  config: ContainerConfig;
  hostConfig?: HostConfig;
  mounts?: (dir: string) => ResolvedMount[];
}

/** Builds the container's bundle as the engine will (files, user, spec) and runs it to its end. */
async function runDocker(c: Case): Promise<{ status: number; stdout: string; stderr: string }> {
  const { dir, cleanup: remove } = tempDir('skiff-engine-spec-');
  chmodSync(dir, 0o755);
  const id = uniqueId('skiff-spec').padEnd(64, '0');
  try {
    const rootfs = makeRootfs(path.join(dir, 'rootfs'));
    // The specs without the engine around them: no CNI network, so `none` unless a case says host.
    const hostConfig: HostConfig = { NetworkMode: 'none', ...c.hostConfig };
    const mode = hostConfig.NetworkMode === 'host' ? 'host' : 'none';
    const hostname = c.config.Hostname || id.slice(0, 12);
    const files = {
      hostname: path.join(dir, 'hostname'),
      hosts: path.join(dir, 'hosts'),
      resolvConf: path.join(dir, 'resolv.conf'),
    };
    writeFileSync(files.hostname, hostnameFile(hostname));
    writeFileSync(files.hosts, hostsFile({ hostname, networkMode: mode }));
    writeFileSync(files.resolvConf, resolvConfFile(readFileSync('/etc/resolv.conf', 'utf8'), mode));
    createWorkingDir(rootfs, c.config.WorkingDir);
    const spec = buildSpec({
      id,
      config: c.config,
      hostConfig,
      rootfs,
      mounts: c.mounts?.(dir) ?? [],
      files,
      user: resolveUser(rootfs, c.config.User ?? ''),
    });
    // The engine's /skiff/<id> would leave the shared /skiff parent behind; tests run side by side
    // in cgroups of their own.
    spec.linux!.cgroupsPath = `/${id}`;
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
    const bundle: TestBundle = { dir, rootfs, spec, save: () => {}, cleanup: remove };
    return await runContainer(runtime, bundle, id);
  } finally {
    remove();
  }
}

const sh = (script: string): ContainerConfig => ({ Cmd: ['/bin/sh', '-c', script] });

test("Docker's defaults seen from inside: files, capabilities, seccomp, limits, /dev/shm, masked paths", async () => {
  const r = await runDocker({
    config: {
      ...sh(
        [
          'cat /etc/hostname',
          'head -1 /etc/hosts',
          'echo "$HOSTNAME $PATH"',
          'grep -E "^(CapBnd|Seccomp|NoNewPrivs):" /proc/self/status',
          'ulimit -Sn; ulimit -Hn',
          'df -k /dev/shm | tail -1 | awk "{print \\$2}"',
          'wc -c < /proc/interrupts',
          'touch /proc/sys/x 2>/dev/null || echo proc-sys-ro',
          'mount | grep -E " /sys (type )?sysfs" | grep -q "ro[,)]" && echo sys-ro',
          'id',
          'pwd',
        ].join('; '),
      ),
      Hostname: 'skiffbox',
    },
  });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.deepEqual(lines.slice(0, 3), [
    'skiffbox',
    '127.0.0.1\tlocalhost',
    'skiffbox /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  ]);
  // Docker's 14 default capabilities: bits 0,1,3,4,5,6,7,8,10,13,18,27,29,31.
  assert.equal(lines[3], 'CapBnd:\t00000000a80425fb');
  assert.equal(lines[4], 'NoNewPrivs:\t0');
  assert.equal(lines[5], 'Seccomp:\t2');
  assert.deepEqual(lines.slice(6, 8), ['1024', String(Math.min(524288, hostNofileHard()))]);
  assert.equal(lines[8], String(64 * 1024));
  // /proc/interrupts is masked (bound to /dev/null), so it reads empty.
  assert.equal(lines[9], '0');
  assert.deepEqual(lines.slice(10, 12), ['proc-sys-ro', 'sys-ro']);
  assert.match(lines[12]!, /^uid=0\(root\) gid=0\(root\)/);
  assert.equal(lines[13], '/');
});

function hostNofileHard(): number {
  const m = /^Max open files\s+\S+\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return Number(m![1]);
}

test('flags seen from inside: user, workdir, env, read-only rootfs, mounts, ulimit, caps, shm, pids', async () => {
  const r = await runDocker({
    config: {
      ...sh(
        [
          'id -u; id -g',
          'pwd',
          'echo "$GREETING"',
          'touch /rootfile 2>/dev/null || echo root-ro',
          'cat /data/hello',
          'touch /data/ro 2>/dev/null || echo data-ro',
          'touch /scratch/x && echo scratch-rw',
          'ulimit -Sn; ulimit -Hn',
          'grep CapBnd /proc/self/status',
          'df -k /dev/shm | tail -1 | awk "{print \\$2}"',
          'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us',
        ].join('; '),
      ),
      User: 'user',
      WorkingDir: '/tmp',
      Env: ['GREETING=hello there'],
    },
    hostConfig: {
      ReadonlyRootfs: true,
      Ulimits: [{ Name: 'nofile', Soft: 100, Hard: 200 }],
      CapDrop: ['ALL'],
      CapAdd: ['KILL'],
      ShmSize: 1024 * 1024,
      PidsLimit: 50,
      Memory: 64 * 1024 * 1024,
      NanoCpus: 5e8,
    },
    mounts: (dir) => {
      mkdirSync(path.join(dir, 'data'));
      writeFileSync(path.join(dir, 'data', 'hello'), 'from the host\n');
      return [
        { type: 'bind', source: path.join(dir, 'data'), destination: '/data', readOnly: true, options: [] },
        { type: 'tmpfs', source: '', destination: '/scratch', readOnly: false, options: ['mode=1777'] },
      ];
    },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), [
    '1000',
    '1000',
    '/tmp',
    'hello there',
    'root-ro',
    'from the host',
    'data-ro',
    'scratch-rw',
    '100',
    '200',
    'CapBnd:\t0000000000000020',
    '1024',
    String(64 * 1024 * 1024),
    '50',
    '50000',
  ]);
});

test('--security-opt seccomp=unconfined and no-new-privileges, --privileged, --network host', async () => {
  const status = '/bin/grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status';
  const unconfined = await runDocker({
    config: sh(status),
    hostConfig: { SecurityOpt: ['seccomp=unconfined', 'no-new-privileges'] },
  });
  assert.equal(unconfined.status, 0, unconfined.stderr);
  assert.equal(unconfined.stdout, 'NoNewPrivs:\t1\nSeccomp:\t0\n');

  const privileged = await runDocker({
    config: sh(
      `${status}; grep -c ' /proc/sys ' /proc/self/mountinfo; mount | grep -E ' /sys (type )?sysfs' | grep -q 'rw[,)]' && echo sys-rw; test -c /dev/kmsg && echo kmsg`,
    ),
    hostConfig: { Privileged: true },
  });
  assert.equal(privileged.status, 0, privileged.stderr);
  assert.equal(privileged.stdout, 'NoNewPrivs:\t0\nSeccomp:\t0\n0\nsys-rw\nkmsg\n');

  const host = await runDocker({
    config: sh('cat /proc/net/dev | wc -l'),
    hostConfig: { NetworkMode: 'host' },
  });
  const own = await runDocker({ config: sh('cat /proc/net/dev | wc -l') });
  assert.equal(host.status, 0, host.stderr);
  assert.equal(own.stdout.trim(), '3', 'only lo inside --network none');
  assert.equal(host.stdout.trim(), String(readFileSync('/proc/net/dev', 'utf8').trim().split('\n').length));
});

test('a WorkingDir the image lacks is created, as Docker does', async () => {
  const r = await runDocker({ config: { ...sh('pwd'), WorkingDir: '/srv/new/app' } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '/srv/new/app\n');
});
