import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Process, Seccomp, Spec } from '../../../../src/oci/index.ts';
import {
  compilePlan,
  compileProcessSteps,
  encodePlan,
  type PlanStep,
} from '../../../../src/runtime/plan/index.ts';

/** The process records of a create, with the container's seccomp filter. */
const processSteps = (proc: Process, seccomp: Seccomp | undefined): PlanStep[] =>
  compileProcessSteps(proc, { where: 'config.json: process', seccomp, mountConsole: true });

function proc(overrides: Partial<Process> = {}): Process {
  return { cwd: '/', user: { uid: 0, gid: 0 }, args: ['/bin/true'], env: ['PATH=/bin'], ...overrides };
}

const ops = (steps: PlanStep[]) => steps.map((s) => s.op);
const find = <O extends PlanStep['op']>(steps: PlanStep[], op: O) =>
  steps.filter((s): s is Extract<PlanStep, { op: O }> => s.op === op);

const ERRNO_KEYCTL: Seccomp = {
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [{ names: ['keyctl'], action: 'SCMP_ACT_ERRNO' }],
};

test('capabilities: bounding and keep-caps before user, capset after it, as runc', () => {
  const steps = processSteps(
    proc({
      capabilities: {
        bounding: ['CAP_CHOWN', 'CAP_KILL'],
        effective: ['CAP_KILL'],
        permitted: ['CAP_KILL', 'CAP_SYS_RESOURCE'],
        inheritable: [],
        ambient: ['CAP_KILL'],
      },
    }),
    undefined,
  );
  assert.deepEqual(ops(steps), ['bounding', 'keep-caps', 'user', 'caps', 'umask', 'cwd', 'env', 'exec']);
  assert.deepEqual(find(steps, 'bounding')[0], { op: 'bounding', mask: (1n << 0n) | (1n << 5n) });
  assert.deepEqual(find(steps, 'caps')[0], {
    op: 'caps',
    effective: 1n << 5n,
    permitted: (1n << 5n) | (1n << 24n),
    inheritable: 0n,
    ambient: 1n << 5n,
  });
});

test('no capabilities field leaves capabilities alone; a missing set is empty', () => {
  assert.deepEqual(ops(processSteps(proc(), undefined)), ['user', 'umask', 'cwd', 'env', 'exec']);
  const steps = processSteps(proc({ capabilities: { bounding: ['CAP_KILL'] } }), undefined);
  assert.deepEqual(find(steps, 'caps')[0], {
    op: 'caps',
    effective: 0n,
    permitted: 0n,
    inheritable: 0n,
    ambient: 0n,
  });
});

test('an unknown capability names the capability and the field', () => {
  assert.throws(
    () => processSteps(proc({ capabilities: { ambient: ['CAP_KILL', 'CAP_CHOWN', 'CAP_FOO'] } }), undefined),
    /process\.capabilities\.ambient\[2\]: unknown capability "CAP_FOO"/,
  );
});

test('with no_new_privs the filter is loaded last before exec; without it before capabilities drop', () => {
  const caps = { bounding: ['CAP_KILL'] };
  const nnp = processSteps(proc({ noNewPrivileges: true, capabilities: caps }), ERRNO_KEYCTL);
  assert.deepEqual(ops(nnp), [
    'no-new-privs',
    'bounding',
    'keep-caps',
    'user',
    'caps',
    'umask',
    'cwd',
    'env',
    'seccomp',
    'seccomp-rule',
    'seccomp-load',
    'exec',
  ]);
  const plain = processSteps(proc({ capabilities: caps }), ERRNO_KEYCTL);
  assert.deepEqual(ops(plain).slice(0, 4), ['seccomp', 'seccomp-rule', 'seccomp-load', 'bounding']);
});

test('seccomp: actions, default errno EPERM, TRACE return, architectures and flags', () => {
  const steps = processSteps(proc(), {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 38,
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
    flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'],
    syscalls: [
      { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
      { names: ['keyctl'], action: 'SCMP_ACT_ERRNO' },
      { names: ['ptrace'], action: 'SCMP_ACT_TRACE' },
      { names: ['reboot'], action: 'SCMP_ACT_KILL' },
      // The default action with the default errno: a no-op libseccomp would refuse.
      { names: ['mount'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
    ],
  });
  assert.deepEqual(find(steps, 'seccomp'), [{ op: 'seccomp', action: 'errno', errno: 38, flags: 2 | 4 }]);
  assert.deepEqual(
    find(steps, 'seccomp-arch').map((s) => s.arch),
    ['x86_64', 'x86'],
  );
  assert.deepEqual(
    find(steps, 'seccomp-rule').map((r) => [r.syscall, r.action, r.errno]),
    [
      ['read', 'allow', 0],
      ['write', 'allow', 0],
      ['keyctl', 'errno', 1],
      ['ptrace', 'trace', 1],
      ['reboot', 'kill-thread', 0],
    ],
  );
});

test('seccomp conditions: every operator; two on one argument become separate rules (OR)', () => {
  const steps = processSteps(proc(), {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [
      {
        names: ['clone'],
        action: 'SCMP_ACT_ERRNO',
        args: [
          { index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' },
          { index: 1, value: 2, op: 'SCMP_CMP_NE' },
          { index: 2, value: 3, op: 'SCMP_CMP_LT' },
          { index: 3, value: 4, op: 'SCMP_CMP_LE' },
          { index: 4, value: 5, op: 'SCMP_CMP_GE' },
          { index: 5, value: 6, op: 'SCMP_CMP_GT' },
        ],
      },
      {
        names: ['personality'],
        action: 'SCMP_ACT_ERRNO',
        args: [
          { index: 0, value: 1, op: 'SCMP_CMP_EQ' },
          { index: 0, value: 2, op: 'SCMP_CMP_EQ' },
        ],
      },
    ],
  });
  const rules = find(steps, 'seccomp-rule');
  assert.equal(rules.length, 3);
  assert.deepEqual(
    rules[0]!.conditions.map((c) => c.op),
    ['masked-eq', 'ne', 'lt', 'le', 'ge', 'gt'],
  );
  assert.deepEqual(
    rules.slice(1).map((r) => r.conditions.map((c) => c.value)),
    [[1n], [2n]],
  );
});

test('seccomp errors name the field; NOTIFY needs a listenerPath', () => {
  const bad: [Seccomp, RegExp][] = [
    [
      { defaultAction: 'SCMP_ACT_NOPE' },
      /linux\.seccomp\.defaultAction: unknown seccomp action "SCMP_ACT_NOPE"/,
    ],
    [
      { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_VAX'] },
      /architectures\[0\]: unknown architecture/,
    ],
    [{ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_TSYNC'] }, /flags\[0\]: unknown flag/],
    [
      {
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [
          { names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 0, op: 'SCMP_CMP_EQ' }] },
        ],
      },
      /syscalls\[0\]\.args\[0\]\.index: 6 is not a syscall argument/,
    ],
    [
      { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_NOTIFY' }] },
      /linux\.seccomp\.listenerPath is required when SCMP_ACT_NOTIFY is used/,
    ],
  ];
  for (const [seccomp, pattern] of bad) assert.throws(() => processSteps(proc(), seccomp), pattern);
});

test('AppArmor and SELinux exec labels are records; the mount label goes into new filesystems', () => {
  const steps = processSteps(proc({ apparmorProfile: 'p', selinuxLabel: 'l' }), undefined);
  assert.deepEqual(ops(steps).slice(0, 2), ['apparmor', 'selinux-label']);
  const spec: Spec = {
    ociVersion: '1.2.0',
    root: { path: 'rootfs' },
    process: proc(),
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['mode=1777'] },
      { destination: '/data', type: 'bind', source: '/data', options: ['rbind'] },
    ],
    linux: { namespaces: [{ type: 'mount' }], mountLabel: 'system_u:object_r:container_file_t:s0' },
  };
  const plan = compilePlan({
    spec,
    bundle: '/b',
    fifo: '/f',
    preserveFds: 0,
    noPivot: false,
    cgroupProcs: [],
    cgroupViews: [],
    isDirectory: () => true,
  });
  const label = plan.steps.findIndex((s) => s.op === 'selinux-mount-label');
  assert.ok(label >= 0 && label < plan.steps.findIndex((s) => s.op === 'rootfs'));
  const data = Object.fromEntries(find(plan.steps, 'mount').map((m) => [m.destination, m.data]));
  assert.equal(data['/tmp'], 'mode=1777,context="system_u:object_r:container_file_t:s0"');
  assert.equal(data['/proc'], '');
  assert.equal(data['/data'], '');
});

test('security records as the shim reads them: hex masks, conditions as index:op:value:valueTwo', () => {
  const plan = compilePlan({
    spec: {
      ociVersion: '1.2.0',
      root: { path: 'rootfs' },
      process: proc({ noNewPrivileges: true, capabilities: { bounding: ['CAP_KILL', 'CAP_SYS_ADMIN'] } }),
      linux: {
        namespaces: [{ type: 'mount' }],
        seccomp: {
          defaultAction: 'SCMP_ACT_ALLOW',
          architectures: ['SCMP_ARCH_X86_64'],
          syscalls: [
            {
              names: ['socket'],
              action: 'SCMP_ACT_ERRNO',
              errnoRet: 97,
              args: [{ index: 0, value: 40, op: 'SCMP_CMP_GT' }],
            },
          ],
        },
      },
    },
    bundle: '/b',
    fifo: '/f',
    preserveFds: 0,
    noPivot: false,
    cgroupProcs: [],
    cgroupViews: [],
    isDirectory: () => true,
  });
  const text = encodePlan(plan).toString().split('\0');
  const record = (op: string) => {
    const i = text.indexOf(op);
    return text.slice(i, i + 2 + Number(text[i + 1]));
  };
  assert.deepEqual(record('bounding'), ['bounding', '1', '0x200020']);
  assert.deepEqual(record('keep-caps'), ['keep-caps', '0']);
  assert.deepEqual(record('caps'), ['caps', '4', '0x0', '0x0', '0x0', '0x0']);
  assert.deepEqual(record('no-new-privs'), ['no-new-privs', '0']);
  assert.deepEqual(record('seccomp'), ['seccomp', '3', 'allow', '0', '0']);
  assert.deepEqual(record('seccomp-arch'), ['seccomp-arch', '1', 'x86_64']);
  assert.deepEqual(record('seccomp-rule'), ['seccomp-rule', '4', 'errno', '97', 'socket', '0:gt:40:0']);
  assert.deepEqual(record('seccomp-load'), ['seccomp-load', '0']);
});

test('SCMP_ACT_NOTIFY: the agent is reached before the pivot, and told the state', () => {
  const plan = compilePlan({
    spec: {
      ociVersion: '1.2.0',
      root: { path: 'rootfs' },
      process: proc({ noNewPrivileges: true }),
      annotations: { a: 'b' },
      linux: {
        namespaces: [{ type: 'mount' }],
        seccomp: {
          defaultAction: 'SCMP_ACT_ALLOW',
          listenerPath: '/run/agent.sock',
          listenerMetadata: 'm',
          syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }],
        },
      },
    },
    bundle: '/b',
    fifo: '/f',
    preserveFds: 0,
    noPivot: false,
    cgroupProcs: [],
    cgroupViews: [],
    containerId: 'c1',
    isDirectory: () => true,
  });
  const at = (op: string) => plan.steps.findIndex((s) => s.op === op);
  assert.ok(at('seccomp-listener') < at('pivot'));
  assert.ok(at('pivot') < at('seccomp-load'));
  const listener = find(plan.steps, 'seccomp-listener')[0]!;
  assert.equal(listener.path, '/run/agent.sock');
  assert.equal(listener.metadata, '"m"');
  assert.deepEqual(JSON.parse(listener.state), {
    ociVersion: '1.3.0',
    id: 'c1',
    status: 'creating',
    bundle: '/b',
    annotations: { a: 'b' },
  });
  assert.deepEqual(
    find(plan.steps, 'seccomp-rule').map((r) => r.action),
    ['notify'],
  );
});
