import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SkiffError } from '../../../src/common/index.ts';
import { checkSpec, defaultSpec, parseSpec, type Spec, validateSpec } from '../../../src/oci/index.ts';
import { locateJsonError } from '../../../src/oci/validate.ts';

/** A config exercising most of what the schema knows, all of it valid. */
function maximalSpec(): Spec {
  return {
    ociVersion: '1.3.0',
    root: { path: '/var/lib/skiff/containers/x/rootfs', readonly: false },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'ro'] },
      {
        destination: '/mapped',
        type: 'bind',
        source: '/srv/mapped',
        options: ['bind'],
        uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
        gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      },
    ],
    process: {
      terminal: false,
      consoleSize: { height: 24, width: 80 },
      user: { uid: 1000, gid: 1000, umask: 0o022, additionalGids: [5, 10], username: 'app' },
      args: ['/usr/bin/app', '--serve'],
      env: ['PATH=/usr/bin:/bin', 'HOME=/home/app'],
      cwd: '/home/app',
      capabilities: {
        bounding: ['CAP_CHOWN', 'CAP_NET_BIND_SERVICE'],
        effective: ['CAP_NET_BIND_SERVICE'],
        inheritable: ['CAP_NET_BIND_SERVICE'],
        permitted: ['CAP_CHOWN', 'CAP_NET_BIND_SERVICE'],
        ambient: ['CAP_NET_BIND_SERVICE'],
      },
      rlimits: [
        { type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 },
        { type: 'RLIMIT_CORE', soft: 0, hard: 0 },
      ],
      noNewPrivileges: true,
      apparmorProfile: 'skiff-default',
      oomScoreAdj: 100,
      selinuxLabel: 'system_u:system_r:container_t:s0',
      ioPriority: { class: 'IOPRIO_CLASS_BE', priority: 4 },
      scheduler: { policy: 'SCHED_OTHER', nice: 5 },
      execCPUAffinity: { initial: '0-1', final: '0-3' },
    },
    hostname: 'box',
    domainname: 'example.org',
    hooks: {
      prestart: [{ path: '/usr/bin/hook', args: ['hook', 'prestart'], env: ['A=1'], timeout: 5 }],
      createRuntime: [{ path: '/usr/bin/hook' }],
      createContainer: [{ path: '/usr/bin/hook' }],
      startContainer: [{ path: '/usr/bin/hook' }],
      poststart: [{ path: '/usr/bin/hook' }],
      poststop: [{ path: '/usr/bin/hook', timeout: 10 }],
    },
    annotations: { 'org.opencontainers.image.title': 'app' },
    linux: {
      namespaces: [
        { type: 'pid' },
        { type: 'network', path: '/run/skiff/netns/x' },
        { type: 'ipc' },
        { type: 'uts' },
        { type: 'mount' },
        { type: 'user' },
        { type: 'cgroup' },
        { type: 'time' },
      ],
      uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      timeOffsets: { monotonic: { secs: 3600, nanosecs: 0 }, boottime: { secs: -60 } },
      devices: [{ type: 'c', path: '/dev/fuse', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 }],
      cgroupsPath: '/skiff/x',
      resources: {
        devices: [
          { allow: false, access: 'rwm' },
          { allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' },
        ],
        memory: {
          limit: 536870912,
          reservation: 268435456,
          swap: 1073741824,
          swappiness: 60,
          disableOOMKiller: false,
        },
        cpu: { shares: 1024, quota: 50000, period: 100000, cpus: '0-1', mems: '0', idle: 0 },
        pids: { limit: 512 },
        blockIO: {
          weight: 500,
          weightDevice: [{ major: 8, minor: 0, weight: 300 }],
          throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
        },
        hugepageLimits: [{ pageSize: '2MB', limit: 209715200 }],
        network: { classID: 1048577, priorities: [{ name: 'eth0', priority: 500 }] },
        rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 } },
        unified: { 'memory.high': '400M' },
      },
      rootfsPropagation: 'rslave',
      seccomp: {
        defaultAction: 'SCMP_ACT_ERRNO',
        defaultErrnoRet: 1,
        architectures: ['SCMP_ARCH_X86_64'],
        flags: ['SECCOMP_FILTER_FLAG_LOG'],
        syscalls: [
          { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
          {
            names: ['personality'],
            action: 'SCMP_ACT_ALLOW',
            args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }],
          },
        ],
      },
      sysctl: {
        'net.ipv4.ip_forward': '1',
        'net/ipv4/ping_group_range': '0 0',
        'kernel.shmmax': '68719476736',
        'kernel.msgmax': '65536',
        'kernel.sem': '250 32000 100 128',
        'fs.mqueue.msg_max': '10',
        'kernel.domainname': 'example.org',
      },
      maskedPaths: ['/proc/kcore'],
      readonlyPaths: ['/proc/sys'],
      mountLabel: 'system_u:object_r:container_file_t:s0',
      personality: { domain: 'LINUX' },
      intelRdt: { closID: 'guaranteed_group', l3CacheSchema: 'L3:0=7f0', memBwSchema: 'MB:0=20' },
      netDevices: { eth1: { name: 'net1' } },
      memoryPolicy: { mode: 'MPOL_INTERLEAVE', nodes: '0-1', flags: ['MPOL_F_STATIC_NODES'] },
    },
  };
}

/** The message of the InvalidArgument error that validating `spec` throws. */
function rejection(spec: unknown, file?: string): string {
  try {
    validateSpec(spec, file);
  } catch (err) {
    assert.ok(err instanceof SkiffError, `expected a SkiffError, got ${err}`);
    assert.equal(err.kind, 'InvalidArgument');
    return err.message;
  }
  assert.fail('the config was accepted');
}

function modified(change: (spec: Spec) => void, base: Spec = defaultSpec({ cgroupNamespace: false })): Spec {
  const spec = structuredClone(base);
  change(spec);
  return spec;
}

describe('valid configs', () => {
  test('the default spec, the rootless one and a maximal config pass', () => {
    for (const spec of [
      defaultSpec(),
      defaultSpec({ cgroupNamespace: true }),
      defaultSpec({ rootless: true, hostUid: 1000, hostGid: 1000 }),
      maximalSpec(),
    ]) {
      assert.deepEqual(checkSpec(spec), []);
      assert.equal(validateSpec(spec), spec);
    }
  });

  test('a minimal config passes', () => {
    assert.deepEqual(checkSpec({ ociVersion: '1.0.0', root: { path: 'rootfs' } }), []);
  });

  test('sections of other platforms are not checked', () => {
    assert.deepEqual(checkSpec({ ...maximalSpec(), windows: { layerFolders: 'not an array' } }), []);
  });
});

describe('schema errors name the field in OCI terms', () => {
  test('a wrong type deep in linux.resources', () => {
    const spec = modified((s) => {
      s.linux!.resources = { memory: { limit: '512m' as unknown as number } };
    });
    assert.equal(
      rejection(spec),
      'config.json: linux.resources.memory.limit: must be an integer, not "512m"',
    );
  });

  test('the file name is the one given', () => {
    const spec = modified((s) => {
      s.process!.terminal = 'yes' as unknown as boolean;
    });
    assert.equal(
      rejection(spec, '/b/config.json'),
      '/b/config.json: process.terminal: must be a boolean, not "yes"',
    );
  });

  test('a missing required field', () => {
    const spec = modified((s) => {
      delete (s.root as Partial<Spec['root']>)!.path;
    });
    assert.equal(rejection(spec), 'config.json: root.path: is required');
  });

  test('array elements are indexed and odd keys quoted', () => {
    const spec = modified((s) => {
      s.mounts![2]!.destination = 5 as unknown as string;
      s.linux!.sysctl = { 'net.ipv4.ip_forward': 1 as unknown as string };
    });
    const message = rejection(spec);
    assert.match(message, /^config\.json: mounts\[2\]\.destination: must be a string, not 5$/m);
    assert.match(
      message,
      /^config\.json: linux\.sysctl\["net\.ipv4\.ip_forward"\]: must be a string, not 1$/m,
    );
  });

  test('an unknown namespace type lists the known ones, without the anyOf noise', () => {
    const spec = modified((s) => {
      s.linux!.namespaces!.push({ type: 'net' as 'network' });
    });
    const message = rejection(spec);
    assert.equal(
      message,
      'config.json: linux.namespaces[5].type: "net" is not one of "mount", "pid", "network", "uts", "ipc", "user", "cgroup", "time"',
    );
  });

  test('numbers out of range and patterns', () => {
    const spec = modified((s) => {
      s.process!.user.uid = -1;
      s.process!.rlimits![0]!.type = 'nofile';
    });
    const message = rejection(spec);
    assert.match(message, /^config\.json: process\.user\.uid: must be >= 0$/m);
    assert.match(
      message,
      /^config\.json: process\.rlimits\[0\]\.type: "nofile" must match \^RLIMIT_\[A-Z\]\+\$$/m,
    );
  });

  test('not an object at all', () => {
    assert.equal(rejection([]), 'config.json: must be an object, not an array');
  });

  test('at most five errors are listed, the rest counted', () => {
    const spec = modified((s) => {
      s.mounts = s.mounts!.map((m) => ({ ...m, destination: 0 as unknown as string }));
    });
    const lines = rejection(spec).split('\n');
    assert.equal(lines.length, 6);
    assert.equal(lines[5], 'config.json: … and 2 more errors');
  });
});

describe('semantic checks', () => {
  const cases: [string, (s: Spec) => void, RegExp][] = [
    [
      'ociVersion of another major',
      (s) => (s.ociVersion = '2.0.0'),
      /^config\.json: ociVersion: version 2\.0\.0 is not supported/,
    ],
    [
      'ociVersion that is not SemVer',
      (s) => (s.ociVersion = 'latest'),
      /^config\.json: ociVersion: "latest" is not a SemVer version/,
    ],
    ['missing root', (s) => delete s.root, /^config\.json: root\.path: is required on Linux/],
    ['empty root.path', (s) => (s.root!.path = ''), /^config\.json: root\.path: must not be empty/],
    [
      'relative cwd',
      (s) => (s.process!.cwd = 'home'),
      /^config\.json: process\.cwd: "home" is not an absolute path/,
    ],
    [
      'empty args',
      (s) => (s.process!.args = []),
      /^config\.json: process\.args: must name the program to run/,
    ],
    [
      'missing args',
      (s) => delete s.process!.args,
      /^config\.json: process\.args: must name the program to run/,
    ],
    [
      'missing user',
      (s) => delete (s.process as Partial<Spec['process']>)!.user,
      /^config\.json: process\.user: is required on Linux/,
    ],
    [
      'relative mount destination',
      (s) => (s.mounts![0]!.destination = 'proc'),
      /^config\.json: mounts\[0\]\.destination: "proc" is not an absolute path; .*"\/proc"/,
    ],
    [
      'duplicate namespace',
      (s) => s.linux!.namespaces!.push({ type: 'pid' }),
      /^config\.json: linux\.namespaces\[5\]\.type: namespace "pid" is listed twice \(also at linux\.namespaces\[0\]\)/,
    ],
    [
      'relative namespace path',
      (s) => (s.linux!.namespaces![1]!.path = 'netns'),
      /^config\.json: linux\.namespaces\[1\]\.path: "netns" is not an absolute path; .*\/proc\/1234\/ns\/net/,
    ],
    [
      'hostname without a UTS namespace',
      (s) => (s.linux!.namespaces = s.linux!.namespaces!.filter((ns) => ns.type !== 'uts')),
      /^config\.json: hostname: unable to set hostname without a private UTS namespace: add \{"type": "uts"\} to linux\.namespaces/,
    ],
    [
      'uid mappings without a user namespace',
      (s) => (s.linux!.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]),
      /^config\.json: linux\.uidMappings: uid mappings need a user namespace: add \{"type": "user"\}/,
    ],
    [
      'gid mappings without a user namespace',
      (s) => (s.linux!.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]),
      /^config\.json: linux\.gidMappings: gid mappings need a user namespace/,
    ],
    [
      'a net.* sysctl without a network namespace',
      (s) => {
        s.linux!.namespaces = s.linux!.namespaces!.filter((ns) => ns.type !== 'network');
        s.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
      },
      /^config\.json: linux\.sysctl\["net\.ipv4\.ip_forward"\]: is kept per network namespace .*add \{"type": "network"\}/,
    ],
    [
      'an IPC sysctl without an IPC namespace',
      (s) => {
        s.linux!.namespaces = s.linux!.namespaces!.filter((ns) => ns.type !== 'ipc');
        s.linux!.sysctl = { 'fs.mqueue.msg_max': '10' };
      },
      /^config\.json: linux\.sysctl\["fs\.mqueue\.msg_max"\]: is kept per IPC namespace .*add \{"type": "ipc"\}/,
    ],
    [
      'a sysctl no namespace holds',
      (s) => (s.linux!.sysctl = { 'vm.swappiness': '10' }),
      /^config\.json: linux\.sysctl\["vm\.swappiness"\]: is not kept per namespace/,
    ],
    [
      'kernel.hostname as a sysctl',
      (s) => (s.linux!.sysctl = { 'kernel.hostname': 'x' }),
      /^config\.json: linux\.sysctl\["kernel\.hostname"\]: conflicts with the OCI "hostname" field/,
    ],
    [
      'unknown rlimit',
      (s) => (s.process!.rlimits![0]!.type = 'RLIMIT_FOO'),
      /^config\.json: process\.rlimits\[0\]\.type: unknown resource "RLIMIT_FOO"; Linux knows RLIMIT_AS, /,
    ],
    [
      'duplicate rlimit',
      (s) => s.process!.rlimits!.push({ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }),
      /^config\.json: process\.rlimits\[1\]\.type: RLIMIT_NOFILE is set twice/,
    ],
    [
      'soft rlimit above hard',
      (s) => (s.process!.rlimits![0]!.soft = 4096),
      /^config\.json: process\.rlimits\[0\]: soft limit 4096 exceeds hard limit 1024/,
    ],
    [
      'time offsets without a time namespace',
      (s) => (s.linux!.timeOffsets = { monotonic: { secs: 1 } }),
      /^config\.json: linux\.timeOffsets: time offsets need a time namespace/,
    ],
    [
      'relative masked path',
      (s) => s.linux!.maskedPaths!.push('proc/x'),
      /^config\.json: linux\.maskedPaths\[10\]: "proc\/x" is not an absolute path/,
    ],
    [
      'oomScoreAdj out of range',
      (s) => (s.process!.oomScoreAdj = 2000),
      /^config\.json: process\.oomScoreAdj: 2000 is out of range/,
    ],
  ];
  for (const [name, change, expected] of cases) {
    test(name, () => {
      assert.match(rejection(modified(change)), expected);
    });
  }

  test('a joined UTS namespace is enough for a hostname, as in runc', () => {
    const spec = modified((s) => {
      s.linux!.namespaces = s.linux!.namespaces!.map((ns) =>
        ns.type === 'uts' ? { type: 'uts', path: '/proc/1/ns/uts' } : ns,
      );
    });
    assert.deepEqual(checkSpec(spec), []);
  });

  test('semantic checks wait for a schema-valid config', () => {
    const spec = modified((s) => {
      s.process!.cwd = 'relative';
      s.process!.terminal = 1 as unknown as boolean;
    });
    assert.deepEqual(checkSpec(spec), [{ path: 'process.terminal', message: 'must be a boolean, not 1' }]);
  });
});

describe('parseSpec', () => {
  test('parses and validates', () => {
    const spec = defaultSpec();
    assert.deepEqual(parseSpec(JSON.stringify(spec, null, '\t'), 'config.json'), spec);
  });

  test('runs the checks on what it parsed', () => {
    const text = JSON.stringify(modified((s) => (s.process!.cwd = 'x')));
    assert.throws(
      () => parseSpec(text, 'b/config.json'),
      /^InvalidArgument: b\/config\.json: process\.cwd: /,
    );
  });

  const syntax: [string, string, string][] = [
    [
      'a missing comma',
      '{\n  "ociVersion": "1.0.0"\n  "root": {}\n}',
      "b/config.json:3:3: invalid JSON: unexpected \"\\\"\", expected ',' or '}' after a property value",
    ],
    [
      'a stray brace (V8 gives no position)',
      '{\n  "ociVersion": \n}',
      'b/config.json:3:1: invalid JSON: unexpected "}", expected a value',
    ],
    [
      'a trailing comma',
      '{\n\t"args": ["sh",]\n}',
      'b/config.json:2:16: invalid JSON: unexpected "]", expected a value',
    ],
    ['an unterminated string', '{\n  "a": "abc', 'b/config.json:2:8: invalid JSON: unterminated string'],
    ['empty text', '', 'b/config.json:1:1: invalid JSON: unexpected end of input, expected a value'],
    [
      'text after the value',
      '{}\n{}',
      'b/config.json:2:1: invalid JSON: unexpected "{" after the end of the JSON value',
    ],
  ];
  for (const [name, text, expected] of syntax) {
    test(`reports ${name} with line and column`, () => {
      assert.throws(
        () => parseSpec(text, 'b/config.json'),
        (err: unknown) => {
          assert.ok(err instanceof SkiffError);
          assert.equal(err.kind, 'InvalidArgument');
          assert.equal(err.message, expected);
          assert.ok(err.cause instanceof SyntaxError);
          return true;
        },
      );
    });
  }

  test('accepts the 64-bit extremes engines write (RLIM_INFINITY, INT64_MAX) despite float rounding', () => {
    const text = JSON.stringify(defaultSpec())
      .replace('"hard":1024,"soft":1024', '"hard":18446744073709551615,"soft":18446744073709551615')
      .replace('"devices":[', '"memory":{"limit":9223372036854775807,"swap":-1},"devices":[');
    assert.match(text, /18446744073709551615.*9223372036854775807/);
    assert.doesNotThrow(() => parseSpec(text, 'config.json'));
  });

  test('the scanner agrees with JSON.parse on valid documents', () => {
    for (const text of [
      JSON.stringify(maximalSpec(), null, 2),
      '[1, -0.5e+3, "\\u00e9\\n", true, false, null, {}]',
      ' "x" ',
    ]) {
      JSON.parse(text);
      assert.equal(locateJsonError(text), undefined);
    }
  });
});
