import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { dockerSeccompToOci } from '../../../src/engine/index.ts';
import type { Seccomp, Spec } from '../../../src/oci/index.ts';
import { ALL_CAPABILITIES, capabilityMask } from '../../../src/runtime/plan/index.ts';
import { makeBundle, makeRuntime, runContainer, uniqueId } from '../../helpers/bundle.ts';
import { eventually } from '../../helpers/host.ts';
import { REPO_ROOT, tempDir } from '../../helpers/rootfs.ts';
import { startSeccompAgent } from '../../helpers/seccomp-agent.ts';

const { runtime, cleanup } = makeRuntime();
after(cleanup);

const SHIM = process.env.SKIFF_SHIM ?? path.join(REPO_ROOT, 'native', 'build', 'skiff-shim');
const DOCKER_PROFILE = path.join(REPO_ROOT, 'specs', 'seccomp-default.json');
const SIGSYS_STATUS = 128 + 31;

/** Runs `args` in a container made by `edit`, expecting exit 0, and returns its stdout. */
async function inside(args: string[], edit: (spec: Spec) => void): Promise<string> {
  const bundle = makeBundle(args, edit);
  try {
    const result = await runContainer(runtime, bundle);
    assert.equal(result.status, 0, `container failed: ${result.stderr}`);
    return result.stdout;
  } finally {
    bundle.cleanup();
  }
}

/** /proc/self/status capability and security lines, as `probe caps` prints them, by key. */
function statusFields(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.trim().split('\n')) {
    const [key, value] = line.split(':');
    if (key && value !== undefined) fields[key.trim()] = value.trim();
  }
  return fields;
}

/** The capabilities this host's root holds (it lacks CAP_SYS_RESOURCE here). */
function hostBounding(): bigint {
  const line = readFileSync('/proc/self/status', 'utf8').match(/^CapBnd:\s*([0-9a-f]+)$/m);
  return BigInt(`0x${line![1]}`);
}

const mask = (names: string[]) =>
  (capabilityMask(names, 'test') & hostBounding()).toString(16).padStart(16, '0');

function setCaps(spec: Spec, caps: NonNullable<Spec['process']>['capabilities']): void {
  spec.process!.capabilities = caps;
}

test('capabilities as root: bounding, inheritable and ambient as configured, CAP_SYS_RESOURCE skipped', async () => {
  const bounding = ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_RESOURCE', 'CAP_SETPCAP'];
  const out = await inside(['/probe', 'caps'], (spec) =>
    setCaps(spec, {
      bounding,
      effective: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETPCAP', 'CAP_SYS_RESOURCE'],
      permitted: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETPCAP', 'CAP_SYS_RESOURCE'],
      inheritable: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      ambient: ['CAP_NET_BIND_SERVICE'],
    }),
  );
  const f = statusFields(out);
  assert.equal(f.CapBnd, mask(bounding));
  // execve as uid 0 gives root the whole bounding set (no file capabilities: the legacy root rule).
  assert.equal(f.CapPrm, mask(bounding));
  assert.equal(f.CapEff, mask(bounding));
  assert.equal(f.CapInh, mask(['CAP_KILL', 'CAP_NET_BIND_SERVICE']));
  assert.equal(f.CapAmb, mask(['CAP_NET_BIND_SERVICE']));
});

test('capabilities of a non-root user survive the user switch (keep-caps) and reach it as ambient', async () => {
  const out = await inside(['/probe', 'caps'], (spec) => {
    spec.process!.user = { uid: 1000, gid: 1000 };
    setCaps(spec, {
      bounding: ['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_CHOWN', 'CAP_SYS_RESOURCE'],
      effective: ['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_RESOURCE'],
      permitted: ['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_RESOURCE'],
      inheritable: ['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_RESOURCE'],
      ambient: ['CAP_NET_BIND_SERVICE', 'CAP_SYS_RESOURCE'],
    });
  });
  const f = statusFields(out);
  assert.equal(f.CapBnd, mask(['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_CHOWN']));
  assert.equal(f.CapInh, mask(['CAP_KILL', 'CAP_NET_BIND_SERVICE']));
  // A non-root program without file capabilities keeps exactly its ambient set across execve.
  assert.equal(f.CapAmb, mask(['CAP_NET_BIND_SERVICE']));
  assert.equal(f.CapPrm, mask(['CAP_NET_BIND_SERVICE']));
  assert.equal(f.CapEff, mask(['CAP_NET_BIND_SERVICE']));
});

test('a non-root user with an empty bounding set cannot regain capabilities through a setuid-root binary', async () => {
  const run = (bounding: string[], noNewPrivileges: boolean) => {
    const bundle = makeBundle(['/bin/sh', '-c', '/suid-probe id && /suid-probe caps'], (spec) => {
      spec.process!.user = { uid: 1000, gid: 1000 };
      spec.process!.noNewPrivileges = noNewPrivileges;
      setCaps(spec, { bounding, effective: [], permitted: [], inheritable: [], ambient: [] });
    });
    const suid = path.join(bundle.rootfs, 'suid-probe');
    copyFileSync(path.join(bundle.rootfs, 'probe'), suid);
    chownSync(suid, 0, 0);
    chmodSync(suid, 0o4755);
    return runContainer(runtime, bundle).finally(bundle.cleanup);
  };
  const empty = await run([], false);
  assert.equal(empty.status, 0, empty.stderr);
  assert.match(empty.stdout, /euid=0 /, 'the setuid bit did take effect');
  let f = statusFields(empty.stdout.split('\n').slice(1).join('\n'));
  assert.equal(f.CapPrm, '0000000000000000');
  assert.equal(f.CapEff, '0000000000000000');
  assert.equal(f.CapBnd, '0000000000000000');

  // The same binary with CAP_KILL in the bounding set does gain it: the test can tell.
  const kill = await run(['CAP_KILL'], false);
  f = statusFields(kill.stdout.split('\n').slice(1).join('\n'));
  assert.equal(f.CapEff, mask(['CAP_KILL']));

  // With no_new_privs the setuid bit does nothing at all.
  const nnp = await run(['CAP_KILL'], true);
  assert.match(nnp.stdout, /euid=1000 /);
  f = statusFields(nnp.stdout.split('\n').slice(1).join('\n'));
  assert.equal(f.CapEff, '0000000000000000');
  assert.equal(f.NoNewPrivs, '1');
});

test('an unknown capability is an error naming the capability and the field', async (t) => {
  const bundle = makeBundle(['/bin/true'], (spec) => {
    spec.process!.capabilities!.bounding = ['CAP_KILL', 'CAP_CHOWN', 'CAP_FOO'];
  });
  t.after(bundle.cleanup);
  await assert.rejects(
    runtime.create({ id: uniqueId(), bundle: bundle.dir, stdio: ['ignore', 'ignore', 'ignore'] }),
    /process\.capabilities\.bounding\[2\]: unknown capability "CAP_FOO"/,
  );
});

test('noNewPrivileges sets NoNewPrivs; without it the bit stays clear', async () => {
  for (const [nnp, expected] of [
    [true, '1'],
    [false, '0'],
  ] as const) {
    const out = await inside(['/probe', 'caps'], (spec) => {
      spec.process!.noNewPrivileges = nnp;
    });
    assert.equal(statusFields(out).NoNewPrivs, expected);
    assert.equal(statusFields(out).Seccomp, '0', 'no filter unless asked');
  }
});

/** x86_64 syscall numbers for the condition tests (probe `syscall-nr`). */
const NR = {
  umask: 95,
  getppid: 110,
  getpgid: 121,
  getsid: 124,
  getpriority: 140,
  sched_getparam: 143,
  sched_getscheduler: 145,
  sched_get_priority_max: 146,
};

function allowByDefault(syscalls: Seccomp['syscalls']): Seccomp {
  return { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls };
}

test('seccomp: blocked syscalls fail with the configured errno; conditions with every operator', async (t) => {
  if (process.arch !== 'x64') return t.skip('syscall numbers are x86_64 ones');
  const rule = (
    name: string,
    errnoRet: number,
    args: { index: number; value: number; valueTwo?: number; op: string }[],
  ) => ({
    names: [name],
    action: 'SCMP_ACT_ERRNO',
    errnoRet,
    args,
  });
  const filter = allowByDefault([
    // No errnoRet: EPERM. An unknown name is skipped, the rest of the rule stays.
    { names: ['no_such_syscall_in_any_kernel', 'keyctl'], action: 'SCMP_ACT_ERRNO' },
    rule('getpgid', 42, [{ index: 0, value: 1000, op: 'SCMP_CMP_GT' }]),
    rule('getsid', 43, [{ index: 0, value: 1, op: 'SCMP_CMP_LT' }]),
    rule('umask', 44, [{ index: 0, value: 0o700, valueTwo: 0o700, op: 'SCMP_CMP_MASKED_EQ' }]),
    rule('getpriority', 45, [{ index: 0, value: 0, op: 'SCMP_CMP_NE' }]),
    // Two conditions on one argument: libseccomp takes them as separate rules (OR), as runc.
    rule('sched_getscheduler', 46, [
      { index: 0, value: 7777, op: 'SCMP_CMP_EQ' },
      { index: 0, value: 8888, op: 'SCMP_CMP_EQ' },
    ]),
    rule('sched_getparam', 47, [{ index: 0, value: 9000, op: 'SCMP_CMP_GE' }]),
    rule('sched_get_priority_max', 48, [{ index: 0, value: 3, op: 'SCMP_CMP_LE' }]),
  ]);
  const calls: [string, string][] = [
    ['syscall keyctl', 'EPERM'],
    [`syscall-nr ${NR.getpgid} 5000`, 'ENOMSG'],
    [`syscall-nr ${NR.getpgid} 0`, 'ok'],
    [`syscall-nr ${NR.getsid} 0`, 'EIDRM'],
    [`syscall-nr ${NR.getsid} 1`, 'ok'],
    [`syscall-nr ${NR.umask} 0777`, 'ECHRNG'],
    [`syscall-nr ${NR.umask} 022`, 'ok'],
    [`syscall-nr ${NR.getpriority} 1 0`, 'EL2NSYNC'],
    [`syscall-nr ${NR.getpriority} 0 0`, 'ok'],
    [`syscall-nr ${NR.sched_getscheduler} 7777`, 'EL3HLT'],
    [`syscall-nr ${NR.sched_getscheduler} 8888`, 'EL3HLT'],
    [`syscall-nr ${NR.sched_getscheduler} 0`, 'ok'],
    [`syscall-nr ${NR.sched_getparam} 9999 0`, 'EL3RST'],
    [`syscall-nr ${NR.sched_getparam} 0 0`, 'EINVAL'],
    [`syscall-nr ${NR.sched_get_priority_max} 0`, 'ELNRNG'],
    [`syscall-nr ${NR.sched_get_priority_max} 5`, 'ok'],
  ];
  const script = `${calls.map(([c]) => `/probe ${c}`).join('; ')}; /probe caps`;
  const out = await inside(['/bin/sh', '-c', script], (spec) => {
    spec.linux!.seccomp = filter;
  });
  const lines = out.trim().split('\n');
  assert.deepEqual(
    lines.slice(0, calls.length).map((got, i) => `${calls[i]![0]} → ${got}`),
    calls.map(([c, want]) => `${c} → ${want}`),
  );
  assert.equal(statusFields(lines.slice(calls.length).join('\n')).Seccomp, '2');
});

test('seccomp actions: KILL, KILL_PROCESS, KILL_THREAD and TRAP end the process with SIGSYS; TRACE and LOG do not', async (t) => {
  if (process.arch !== 'x64') return t.skip('syscall numbers are x86_64 ones');
  const run = async (action: string) => {
    const bundle = makeBundle(['/probe', 'syscall-nr', String(NR.getppid)], (spec) => {
      spec.linux!.seccomp = allowByDefault([{ names: ['getppid'], action }]);
    });
    try {
      return await runContainer(runtime, bundle);
    } finally {
      bundle.cleanup();
    }
  };
  for (const action of ['SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP']) {
    assert.equal((await run(action)).status, SIGSYS_STATUS, action);
  }
  // TRACE with no tracer attached: the kernel fails the call with ENOSYS.
  assert.equal((await run('SCMP_ACT_TRACE')).stdout, 'ENOSYS\n');
  assert.equal((await run('SCMP_ACT_LOG')).stdout, 'ok\n');
});

/** Docker's profile (seccomp-default.json) as moby turns it into an OCI `linux.seccomp`. */
function dockerProfile(bounding: string[]): Seccomp {
  return dockerSeccompToOci(JSON.parse(readFileSync(DOCKER_PROFILE, 'utf8')), { bounding });
}

test("Docker's default seccomp profile: unshare and keyctl fail with EPERM, sh and ls work (with and without NNP)", async () => {
  for (const noNewPrivileges of [true, false]) {
    const out = await inside(
      [
        '/bin/sh',
        '-c',
        '/probe syscall unshare; /probe syscall keyctl; ls / >/dev/null && echo ls-ok; /probe caps',
      ],
      (spec) => {
        spec.process!.noNewPrivileges = noNewPrivileges;
        spec.linux!.seccomp = dockerProfile(spec.process!.capabilities!.bounding!);
      },
    );
    const [unshare, keyctl, ls, ...status] = out.trim().split('\n');
    assert.deepEqual(
      [unshare, keyctl, ls],
      ['EPERM', 'EPERM', 'ls-ok'],
      `noNewPrivileges ${noNewPrivileges}`,
    );
    assert.equal(statusFields(status.join('\n')).Seccomp, '2');
    assert.equal(statusFields(status.join('\n')).NoNewPrivs, noNewPrivileges ? '1' : '0');
  }
});

test("Docker's profile with another defaultErrnoRet and the LOG and SPEC_ALLOW flags", async () => {
  const out = await inside(['/bin/sh', '-c', '/probe syscall keyctl'], (spec) => {
    const profile = dockerProfile(spec.process!.capabilities!.bounding!);
    profile.defaultErrnoRet = 95;
    profile.flags = ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'];
    spec.linux!.seccomp = profile;
  });
  assert.equal(out, 'EOPNOTSUPP\n');
});

test('seccomp requests this runtime cannot honour are refused, not ignored', async (t) => {
  const cases: [(s: Seccomp) => void, RegExp][] = [
    [(s) => (s.flags = ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV']), /WAIT_KILLABLE_RECV/],
    [
      (s) => s.syscalls!.push({ names: ['getppid'], action: 'SCMP_ACT_NOTIFY' }),
      /linux\.seccomp\.listenerPath is required when SCMP_ACT_NOTIFY is used/,
    ],
    [
      (s) => s.syscalls!.push({ names: ['getppid'], action: 'SCMP_ACT_BOGUS' }),
      /syscalls\[1\]\.action.*SCMP_ACT_BOGUS/,
    ],
    [
      (s) =>
        s.syscalls!.push({
          names: ['getppid'],
          action: 'SCMP_ACT_ERRNO',
          args: [{ index: 0, value: 1, op: 'SCMP_CMP_XX' }],
        }),
      /args\[0\]\.op/,
    ],
  ];
  for (const [edit, pattern] of cases) {
    const bundle = makeBundle(['/bin/true'], (spec) => {
      const filter = allowByDefault([{ names: ['keyctl'], action: 'SCMP_ACT_ERRNO' }]);
      edit(filter);
      spec.linux!.seccomp = filter;
    });
    t.after(bundle.cleanup);
    await assert.rejects(
      runtime.create({ id: uniqueId(), bundle: bundle.dir, stdio: ['ignore', 'ignore', 'ignore'] }),
      pattern,
    );
  }
});

test('SCMP_ACT_NOTIFY: the listener fd and the container process state reach the agent at listenerPath', async (t) => {
  if (process.arch !== 'x64') return t.skip('syscall numbers are x86_64 ones');
  // The agent answers every notified call with ENOMSG (42); getpgid(5000) alone would say ESRCH.
  const agent = await startSeccompAgent(t, 42);
  const id = uniqueId();
  const bundle = makeBundle(['/probe', 'syscall-nr', String(NR.getpgid), '5000'], (spec) => {
    spec.annotations = { 'org.example/test': 'notify' };
    spec.linux!.seccomp = {
      ...allowByDefault([{ names: ['getpgid'], action: 'SCMP_ACT_NOTIFY' }]),
      listenerPath: agent.socket,
      listenerMetadata: 'meta-1',
    };
  });
  t.after(bundle.cleanup);
  const result = await runContainer(runtime, bundle, id);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, 'ENOMSG\n', 'the agent answered the notified call');
  const [first, ...rest] = (await agent.output).trim().split('\n');
  const message = JSON.parse(first!);
  assert.deepEqual(message.fds, ['seccompFd']);
  assert.equal(message.metadata, 'meta-1');
  assert.equal(message.state.id, id);
  assert.equal(message.state.status, 'creating');
  assert.equal(message.state.bundle, bundle.dir);
  assert.deepEqual(message.state.annotations, { 'org.example/test': 'notify' });
  assert.ok(message.pid > 1 && message.state.pid === message.pid);
  // The notified process is the container's: the host pid the runtime told the agent.
  assert.deepEqual(rest, [`notified nr=${NR.getpgid} pid=${message.pid}`]);
});

test('AppArmor and SELinux requests fail clearly on a host without them', async (t) => {
  const apparmor =
    existsSync('/sys/module/apparmor/parameters/enabled') &&
    readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').startsWith('Y');
  const selinux = existsSync('/sys/fs/selinux/enforce');
  const cases: [boolean, (spec: Spec) => void, RegExp][] = [
    [
      apparmor,
      (s) => (s.process!.apparmorProfile = 'docker-default'),
      /AppArmor profile `docker-default`.*not enabled/,
    ],
    [
      selinux,
      (s) => (s.process!.selinuxLabel = 'system_u:system_r:container_t:s0'),
      /process\.selinuxLabel.*SELinux is not enabled/,
    ],
    [
      selinux,
      (s) => (s.linux!.mountLabel = 'system_u:object_r:container_file_t:s0'),
      /linux\.mountLabel.*SELinux is not enabled/,
    ],
  ];
  for (const [supported, edit, pattern] of cases) {
    if (supported) continue; // applied for real there; this host has neither (Debian 12 VM)
    const bundle = makeBundle(['/bin/true'], edit);
    t.after(bundle.cleanup);
    await assert.rejects(
      runtime.create({ id: uniqueId(), bundle: bundle.dir, stdio: ['ignore', 'ignore', 'ignore'] }),
      pattern,
    );
  }
});

test('CVE-2024-21626: no fd of the runtime reaches the container, and a cwd outside its root is refused', async () => {
  const fds = await inside(['/probe', 'fds'], () => {});
  assert.deepEqual(
    fds
      .trim()
      .split('\n')
      .map((l) => l.split(' ')[0]),
    ['0', '1', '2'],
  );
  // The attack: a cwd through a runtime fd that leads out of the rootfs. Whatever fds the init holds
  // while it sets up, none may give the container a cwd that is not below its root.
  for (let fd = 3; fd <= 10; fd++) {
    const bundle = makeBundle(['/probe', 'cwd'], (spec) => {
      spec.process!.cwd = `/proc/self/fd/${fd}`;
    });
    try {
      const result = await runContainer(runtime, bundle).catch((e: Error) => ({
        status: -1,
        stdout: '',
        stderr: e.message,
      }));
      if (result.status === 0) {
        assert.match(result.stdout, /^\/[^\n]*\n$/, `fd ${fd}: the cwd is inside the container`);
        assert.doesNotMatch(result.stdout, /unreachable/);
      }
    } finally {
      bundle.cleanup();
    }
  }
});

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

test('CVE-2019-5736: a container cannot write the runtime binary through /proc/<pid>/exe', async (t) => {
  const before = sha256(SHIM);
  const { dir: shared, cleanup: dropShared } = tempDir('skiff-5736-');
  t.after(dropShared);
  // The attacker: a privileged container (every capability, CAP_SYS_PTRACE included) that waits for a
  // runtime process to appear in its pid namespace.
  const attacker = makeBundle(['/probe', 'exe-attack', '15'], (spec) => {
    const all = [...ALL_CAPABILITIES];
    setCaps(spec, { bounding: all, effective: all, permitted: all, inheritable: [], ambient: [] });
    spec.process!.noNewPrivileges = false;
  });
  t.after(attacker.cleanup);
  const attackerId = uniqueId();
  const outFile = path.join(shared, 'out');
  const out = openSync(outFile, 'w');
  try {
    await runtime.create({ id: attackerId, bundle: attacker.dir, stdio: ['ignore', out, out] });
  } finally {
    closeSync(out);
  }
  t.after(() => runtime.delete(attackerId, { force: true }).catch(() => {}));
  await runtime.start(attackerId);
  const { pid } = await runtime.state(attackerId);

  // The victim: a container whose init (the shim, until it execs) joins the attacker's pid namespace,
  // as `exec` would.
  const victim = makeBundle(['/bin/true'], (spec) => {
    spec.linux!.namespaces = spec.linux!.namespaces!.map((ns) =>
      ns.type === 'pid' ? { type: 'pid', path: `/proc/${pid}/ns/pid` } : ns,
    );
  });
  t.after(victim.cleanup);
  const victimId = uniqueId();
  await runtime.create({ id: victimId, bundle: victim.dir, stdio: ['ignore', 'ignore', 'ignore'] });
  t.after(() => runtime.delete(victimId, { force: true }).catch(() => {}));
  assert.ok(
    await eventually(() => readFileSync(outFile, 'utf8').includes('open-write:'), 15_000),
    `the attacker saw the shim: ${readFileSync(outFile, 'utf8')}`,
  );
  await runtime.start(victimId);
  assert.ok(await eventually(async () => (await runtime.status(attackerId)) === 'stopped', 20_000));
  const report = readFileSync(outFile, 'utf8');
  assert.match(report, /^open-write: (ETXTBSY|EPERM|EACCES)$/m, report);
  assert.doesNotMatch(report, /written|open-write: ok/, report);
  assert.equal(sha256(SHIM), before, 'the host shim binary is unchanged');
});

test('CVE-2019-16884: a /proc symlink in the image cannot put a fake procfs under the container', async (t) => {
  const bundle = makeBundle(['/bin/sh', '-c', '/probe stat /proc/self/attr/exec; /probe caps']);
  t.after(bundle.cleanup);
  // The image's /proc is a link to a directory holding a fake `self/attr/exec` and status.
  rmSync(path.join(bundle.rootfs, 'proc'), { recursive: true });
  mkdirSync(path.join(bundle.rootfs, 'fakeproc', 'self', 'attr'), { recursive: true });
  writeFileSync(path.join(bundle.rootfs, 'fakeproc', 'self', 'attr', 'exec'), '');
  writeFileSync(path.join(bundle.rootfs, 'fakeproc', 'self', 'status'), 'Seccomp:\tfake\n');
  symlinkSync('/fakeproc', path.join(bundle.rootfs, 'proc'));
  const result = await runContainer(runtime, bundle);
  assert.equal(result.status, 0, result.stderr);
  // The real procfs was mounted where the link points, inside the rootfs, hiding the fakes.
  assert.doesNotMatch(result.stdout, /fake/);
  assert.match(result.stdout, /^NoNewPrivs:\s+1$/m);
  assert.equal(
    readFileSync(path.join(bundle.rootfs, 'fakeproc', 'self', 'status'), 'utf8'),
    'Seccomp:\tfake\n',
  );
});

test('CVE-2021-30465: a mount destination through a symlink in a volume cannot reach the host', async (t) => {
  const volume = tempDir('skiff-volume-');
  t.after(volume.cleanup);
  const name = `skiff-cve-2021-30465-${uniqueId()}`;
  // The container controls the volume's content: a link to `/` inside it.
  symlinkSync('/', path.join(volume.dir, 'link'));
  const bundle = makeBundle(['/bin/sh', '-c', `grep -c " /${name} " /proc/self/mountinfo`], (spec) => {
    spec.mounts!.push(
      { destination: '/vol', type: 'bind', source: volume.dir, options: ['rbind'] },
      { destination: `/vol/link/${name}`, type: 'tmpfs', source: 'tmpfs' },
    );
  });
  t.after(bundle.cleanup);
  const result = await runContainer(runtime, bundle);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, '1\n', 'the tmpfs is at /<name> of the container');
  assert.equal(existsSync(`/${name}`), false, 'nothing was made at the host root');
  assert.ok(existsSync(path.join(bundle.rootfs, name)), 'the destination was made in the rootfs');
});
