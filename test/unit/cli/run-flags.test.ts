// `run` / `create` flags into the API's Config and HostConfig as docker's CLI builds them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { StatusError } from '../../../src/cli/command.ts';
import {
  CREATE_FLAGS,
  parseMount,
  parseRunFlags,
  parseUlimit,
  RUN_FLAGS,
  type RunFlags,
} from '../../../src/cli/commands/container/run-flags.ts';
import { flagUsages, parseFlags } from '../../../src/cli/flags.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'skiff-runflags-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ENV = { FROM_CLI: 'cli value', EMPTY: '' };
function run(argv: string[], verb: 'run' | 'create' = 'run'): RunFlags {
  const parsed = parseFlags(verb === 'run' ? RUN_FLAGS : CREATE_FLAGS, argv, { interspersed: false });
  return parseRunFlags(parsed, { verb, env: ENV, cwd: '/home/me' });
}
function refused(argv: string[], message: string, verb: 'run' | 'create' = 'run') {
  assert.throws(
    () => run(argv, verb),
    (err: unknown) => {
      assert.ok(err instanceof StatusError, String(err));
      assert.equal(err.status, 125);
      assert.equal(err.message, message);
      return true;
    },
  );
}

test('the image and its command; flags after the image belong to the command', () => {
  const r = run(['-d', '--rm', '--name', 'web', 'busybox', 'sh', '-c', 'echo -e hi', '--rm']);
  assert.equal(r.image, 'busybox');
  assert.equal(r.name, 'web');
  assert.deepEqual(r.config.Cmd, ['sh', '-c', 'echo -e hi', '--rm']);
  assert.equal(r.detach, true);
  assert.equal(r.autoRemove, true);
  assert.equal(r.hostConfig.AutoRemove, true);
  assert.deepEqual(
    [r.config.AttachStdin, r.config.AttachStdout, r.config.AttachStderr],
    [false, false, false],
  );
  assert.equal(r.pull, 'missing');
  const plain = run(['busybox']);
  assert.equal(plain.config.Cmd, null);
  assert.equal(plain.config.Entrypoint, null);
  assert.deepEqual([plain.config.AttachStdout, plain.config.AttachStderr], [true, true]);
  assert.equal(plain.hostConfig.NetworkMode, 'default');
  assert.deepEqual(plain.hostConfig.LogConfig, { Type: 'json-file', Config: {} });
  assert.equal(plain.sigProxy, true);
  assert.equal(plain.hostConfig.Init, undefined);
});

test('-it, -w, -u, -h, --entrypoint, --stop-signal, --stop-timeout, --init, --pull', () => {
  const r = run([
    '-it',
    '-w',
    '/srv',
    '-u',
    '1000:1000',
    '-h',
    'box',
    '--entrypoint',
    '/bin/echo',
    '--stop-signal',
    'SIGINT',
    '--stop-timeout=3',
    '--init',
    '--pull',
    'never',
    'img',
  ]);
  assert.equal(r.config.Tty, true);
  assert.equal(r.config.OpenStdin, true);
  assert.equal(r.config.AttachStdin, true);
  assert.equal(r.config.StdinOnce, true);
  assert.equal(r.config.WorkingDir, '/srv');
  assert.equal(r.config.User, '1000:1000');
  assert.equal(r.config.Hostname, 'box');
  assert.deepEqual(r.config.Entrypoint, ['/bin/echo']);
  assert.equal(r.config.StopSignal, 'SIGINT');
  assert.equal(r.config.StopTimeout, 3);
  assert.equal(r.hostConfig.Init, true);
  assert.equal(r.pull, 'never');
  assert.deepEqual(run(['--entrypoint=', 'img']).config.Entrypoint, ['']);
  assert.equal(run(['-i', 'img'], 'create').config.StdinOnce, false);
});

test('-e and --env-file: file first, bare VAR from the CLI environment, unset bare VAR kept as docker', () => {
  const file = path.join(dir, 'env');
  writeFileSync(file, '\uFEFF# comment\n  A=1\nB= spaced \nFROM_CLI\nNOT_SET\n\nC=\n');
  const r = run(['--env-file', file, '-e', 'X=y', '-e', 'FROM_CLI', '-e', 'NOPE', '-e', 'EMPTY', 'img']);
  assert.deepEqual(r.config.Env, [
    'A=1',
    'B= spaced ',
    'FROM_CLI=cli value',
    'C=',
    'X=y',
    'FROM_CLI=cli value',
    'NOPE',
    'EMPTY=',
  ]);
  writeFileSync(file, 'BAD KEY=1\n');
  refused(
    ['--env-file', file, 'img'],
    "skiff: poorly formatted environment: variable 'BAD KEY' contains whitespaces.\nSee 'skiff run --help'.",
  );
  refused(
    ['-e', '=x', 'img'],
    `invalid argument "=x" for "-e, --env" flag: invalid environment variable: =x\nSee 'skiff run --help'.`,
  );
  refused(
    ['--env-file', '/nonexistent/skiff', 'img'],
    "open /nonexistent/skiff: no such file or directory\nSee 'skiff create --help'.",
    'create',
  );
});

test('-v: binds verbatim (relative ./ made absolute), named volumes in Binds, anonymous in Config.Volumes', () => {
  const r = run(['-v', '/host:/c:ro', '-v', './rel:/r', '-v', 'named:/n:z', '-v', '/anon', 'img']);
  assert.deepEqual(r.hostConfig.Binds, ['/host:/c:ro', '/home/me/rel:/r', 'named:/n:z']);
  assert.deepEqual(r.config.Volumes, { '/anon': {} });
  refused(
    ['-v', '/a::/b', 'img'],
    "skiff: invalid spec: /a::/b: empty section between colons.\nSee 'skiff run --help'.",
  );
});

test("--mount: docker's CSV syntax", () => {
  assert.deepEqual(parseMount('type=bind,source=/a,target=/b,readonly,bind-propagation=rslave'), {
    Type: 'bind',
    Source: '/a',
    Target: '/b',
    ReadOnly: true,
    BindOptions: { Propagation: 'rslave' },
  });
  assert.deepEqual(parseMount('src=vol,dst=/data,volume-nocopy'), {
    Type: 'volume',
    Source: 'vol',
    Target: '/data',
    VolumeOptions: { NoCopy: true },
  });
  assert.deepEqual(parseMount('type=tmpfs,destination=/t,tmpfs-size=64m,tmpfs-mode=1770,ro=false'), {
    Type: 'tmpfs',
    Target: '/t',
    ReadOnly: false,
    TmpfsOptions: { SizeBytes: 64 * 1024 * 1024, Mode: 0o1770 },
  });
  assert.deepEqual(parseMount('type=bind,"src=/a,b",dst=/x', '/cwd'), {
    Type: 'bind',
    Source: '/a,b',
    Target: '/x',
  });
  assert.equal(parseMount('type=bind,src=./here,dst=/x', '/cwd').Source, '/cwd/here');
  const bad = (text: string, message: string) => assert.throws(() => parseMount(text), { message });
  bad('type=bind,src=/a', 'target is required');
  bad('type=bind,dst=/a,volume-nocopy', "cannot mix 'volume-*' options with mount type 'bind'");
  bad('type=volume,dst=/a,tmpfs-size=1m', "cannot mix 'tmpfs-*' options with mount type 'volume'");
  bad('type=tmpfs,dst=/a,tmpfs-size=lots', 'invalid value for tmpfs-size: lots');
  bad('type=tmpfs,dst=/a,tmpfs-mode=999', 'invalid value for tmpfs-mode: 999');
  bad('dst=/a,bogus', "invalid field 'bogus' must be a key=value pair");
  bad('dst=/a,color=red', "unexpected key 'color' in 'color=red'");
  bad('dst=/a,ro=maybe', 'invalid value for ro: maybe');
  const r = run(['--mount', 'type=bind,src=/a,dst=/b', 'img']);
  assert.deepEqual(r.hostConfig.Mounts, [{ Type: 'bind', Source: '/a', Target: '/b' }]);
  refused(
    ['--mount', 'type=bind,src=/a', 'img'],
    `invalid argument "type=bind,src=/a" for "--mount" flag: target is required\nSee 'skiff run --help'.`,
  );
});

test('--tmpfs, --read-only, -l, --sysctl, --device, --cap-add/--cap-drop, --privileged', () => {
  const r = run([
    '--tmpfs',
    '/run:size=64m,mode=1777',
    '--tmpfs',
    '/tmp',
    '--read-only',
    '-l',
    'a=b',
    '--label',
    'flag',
    '--sysctl',
    'net.ipv4.ip_forward=1',
    '--sysctl',
    'kernel.shmmax=65536',
    '--device',
    '/dev/fuse',
    '--device',
    '/dev/sda:/dev/xvda:r',
    '--device',
    '/dev/null:rw',
    '--cap-add',
    'NET_ADMIN',
    '--cap-drop',
    'ALL',
    '--privileged',
    'img',
  ]);
  assert.deepEqual(r.hostConfig.Tmpfs, { '/run': 'size=64m,mode=1777', '/tmp': '' });
  assert.equal(r.hostConfig.ReadonlyRootfs, true);
  assert.deepEqual(r.config.Labels, { a: 'b', flag: '' });
  assert.deepEqual(r.hostConfig.Sysctls, { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '65536' });
  assert.deepEqual(r.hostConfig.Devices, [
    { PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' },
    { PathOnHost: '/dev/sda', PathInContainer: '/dev/xvda', CgroupPermissions: 'r' },
    { PathOnHost: '/dev/null', PathInContainer: '/dev/null', CgroupPermissions: 'rw' },
  ]);
  assert.deepEqual(r.hostConfig.CapAdd, ['NET_ADMIN']);
  assert.deepEqual(r.hostConfig.CapDrop, ['ALL']);
  assert.equal(r.hostConfig.Privileged, true);
  refused(
    ['--sysctl', 'kernel.hostname=x', 'img'],
    `invalid argument "kernel.hostname=x" for "--sysctl" flag: sysctl 'kernel.hostname=x' is not allowed\nSee 'skiff run --help'.`,
  );
  refused(['--device', '/dev/a:rel', 'img'], "skiff: bad format for path: rel.\nSee 'skiff run --help'.");
  refused(
    ['--device', '/dev/a:/dev/b:rwx', 'img'],
    "skiff: bad mode specified: rwx.\nSee 'skiff run --help'.",
  );
  refused(
    ['-l', '=v', 'img'],
    `invalid argument "=v" for "-l, --label" flag: invalid label '=v': empty name\nSee 'skiff run --help'.`,
  );
});

test('sizes and numbers: --memory, --memory-swap, --memory-reservation, --shm-size, --cpus, --cpu-shares, --pids-limit', () => {
  const r = run([
    '-m',
    '512m',
    '--memory-swap',
    '1G',
    '--memory-reservation',
    '256MB',
    '--shm-size',
    '1.5k',
    '--cpus',
    '1.25',
    '-c',
    '512',
    '--cpuset-cpus',
    '0',
    '--pids-limit',
    '-1',
    'img',
  ]);
  const mib = 1024 * 1024;
  assert.equal(r.hostConfig.Memory, 512 * mib);
  assert.equal(r.hostConfig.MemorySwap, 1024 * mib);
  assert.equal(r.hostConfig.MemoryReservation, 256 * mib);
  assert.equal(r.hostConfig.ShmSize, 1536);
  assert.equal(r.hostConfig.NanoCpus, 1.25e9);
  assert.equal(r.hostConfig.CpuShares, 512);
  assert.equal(r.hostConfig.CpusetCpus, '0');
  assert.equal(r.hostConfig.PidsLimit, -1);
  assert.equal(run(['--memory-swap', '-1', 'img']).hostConfig.MemorySwap, -1);
  assert.equal(run(['-m', '100b', 'img']).hostConfig.Memory, 100);
  assert.equal(run(['-m', '7', 'img']).hostConfig.Memory, 7);
  refused(
    ['-m', 'lots', 'img'],
    `invalid argument "lots" for "-m, --memory" flag: invalid size: 'lots'\nSee 'skiff run --help'.`,
  );
  refused(
    ['--cpus', 'x', 'img'],
    `invalid argument "x" for "--cpus" flag: failed to parse x as a rational number\nSee 'skiff run --help'.`,
  );
  refused(
    ['--cpus', '0.0000000001', 'img'],
    `invalid argument "0.0000000001" for "--cpus" flag: value is too precise\nSee 'skiff run --help'.`,
  );
  refused(
    ['--pids-limit', 'many', 'img'],
    `invalid argument "many" for "--pids-limit" flag: strconv.ParseInt: parsing "many": invalid syntax\nSee 'skiff run --help'.`,
  );
});

test('--ulimit name=soft[:hard]', () => {
  assert.deepEqual(parseUlimit('nofile=1024:2048'), { Name: 'nofile', Soft: 1024, Hard: 2048 });
  assert.deepEqual(parseUlimit('nproc=10'), { Name: 'nproc', Soft: 10, Hard: 10 });
  assert.throws(() => parseUlimit('nofile'), { message: 'invalid ulimit argument: nofile' });
  assert.throws(() => parseUlimit('bogus=1'), { message: 'invalid ulimit type: bogus' });
  assert.throws(() => parseUlimit('nofile=1:2:3'), /too many limit value arguments - 1:2:3/);
  assert.throws(() => parseUlimit('nofile=10:5'), {
    message: 'ulimit soft limit must be less than or equal to hard limit: 10 > 5',
  });
  const r = run(['--ulimit', 'nofile=1:2', '--ulimit', 'core=0', '--ulimit', 'nofile=3:4', 'img']);
  assert.deepEqual(r.hostConfig.Ulimits, [
    { Name: 'nofile', Soft: 3, Hard: 4 },
    { Name: 'core', Soft: 0, Hard: 0 },
  ]);
  refused(
    ['--ulimit', 'x', 'img'],
    `invalid argument "x" for "--ulimit" flag: invalid ulimit argument: x\nSee 'skiff run --help'.`,
  );
});

test('--security-opt: a seccomp file is sent as its JSON; malformed options are refused', () => {
  const profile = path.join(dir, 'profile.json');
  writeFileSync(profile, '{\n  "defaultAction": "SCMP_ACT_ALLOW"\n}\n');
  const r = run([
    '--security-opt',
    `seccomp=${profile}`,
    '--security-opt',
    'no-new-privileges',
    '--security-opt',
    'seccomp=unconfined',
    '--security-opt',
    'systempaths=unconfined',
    'img',
  ]);
  assert.deepEqual(r.hostConfig.SecurityOpt, [
    'seccomp={"defaultAction":"SCMP_ACT_ALLOW"}',
    'no-new-privileges',
    'seccomp=unconfined',
  ]);
  assert.deepEqual([r.hostConfig.MaskedPaths, r.hostConfig.ReadonlyPaths], [[], []]);
  refused(
    ['--security-opt', 'seccomp', 'img'],
    `skiff: Invalid --security-opt: "seccomp".\nSee 'skiff run --help'.`,
  );
  refused(
    ['--security-opt', 'seccomp=/nonexistent.json', 'img'],
    "skiff: opening seccomp profile (/nonexistent.json) failed: open /nonexistent.json: no such file or directory.\nSee 'skiff run --help'.",
  );
});

test('--network none|host|NAME|container:X (and --net); bad modes, log drivers and pull policies are refused', () => {
  assert.equal(run(['--network', 'host', 'img']).hostConfig.NetworkMode, 'host');
  assert.equal(run(['--net=none', 'img']).hostConfig.NetworkMode, 'none');
  assert.equal(run(['--network', 'bridge', 'img']).hostConfig.NetworkMode, 'bridge');
  assert.equal(run(['--network', 'backend', 'img']).hostConfig.NetworkMode, 'backend');
  assert.equal(run(['--network', 'container:web', 'img']).hostConfig.NetworkMode, 'container:web');
  refused(
    ['--network', 'container:', 'img'],
    `skiff: network mode "container:" needs a container name or id: --network container:NAME.\nSee 'skiff run --help'.`,
  );
  const logs = run(['--log-opt', 'max-size=10m', '--log-opt', 'max-file=3', 'img']);
  assert.deepEqual(logs.hostConfig.LogConfig, {
    Type: 'json-file',
    Config: { 'max-size': '10m', 'max-file': '3' },
  });
  assert.equal(run(['--log-driver', 'none', 'img']).hostConfig.LogConfig!.Type, 'none');
  refused(
    ['--log-driver', 'none', '--log-opt', 'max-size=1m', 'img'],
    "skiff: invalid logging opts for driver none.\nSee 'skiff run --help'.",
  );
  refused(
    ['--log-driver', 'syslog', 'img'],
    "skiff: logger: no log driver named 'syslog' is registered.\nSee 'skiff run --help'.",
  );
  refused(
    ['--log-opt', 'colour=red', 'img'],
    "skiff: unknown log opt 'colour' for json-file log driver.\nSee 'skiff run --help'.",
  );
  refused(
    ['--log-opt', 'max-file=0', 'img'],
    "skiff: max-file cannot be less than 1.\nSee 'skiff run --help'.",
  );
  refused(
    ['--pull', 'sometimes', 'img'],
    `invalid pull option: 'sometimes': must be one of "always", "missing" or "never"\nSee 'skiff create --help'.`,
    'create',
  );
  refused(['-a', 'stdin', '-d', 'img'], "skiff: Conflicting options: -a and -d.\nSee 'skiff run --help'.");
  refused(
    ['-a', 'stdfoo', 'img'],
    `invalid argument "stdfoo" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR\nSee 'skiff run --help'.`,
  );
});

test('help lists docker names and shorthands; --net is hidden; create has no -d', () => {
  const help = flagUsages(RUN_FLAGS);
  assert.match(help, /^ {2}-d, --detach {2,}Run container in background and print container ID$/m);
  assert.match(help, /^ {2}-h, --hostname string {2,}Container host name$/m);
  assert.match(help, /^ {2}-m, --memory bytes {2,}Memory limit$/m);
  assert.match(
    help,
    /--pull string {2,}Pull image before running \("always", "missing", "never"\) \(default "missing"\)/,
  );
  assert.match(help, /--network network/);
  assert.doesNotMatch(help, /--net /);
  assert.ok(!CREATE_FLAGS.some((f) => f.name === 'detach' || f.name === 'sig-proxy'));
});

test("-p/-P/--expose/--add-host/--dns*: docker's port specs into PortBindings and ExposedPorts", () => {
  const r = run([
    '-p',
    '8080:80',
    '-p',
    '127.0.0.1::53/udp',
    '-p',
    '9000-9001:7000-7001',
    '-p',
    '443',
    '--expose',
    '6000-6001',
    '-P',
    '--add-host',
    'db:10.0.0.5',
    '--dns',
    '10.0.0.53',
    '--dns-search',
    'example.test',
    '--dns-option',
    'ndots:2',
    'img',
  ]);
  assert.deepEqual(r.hostConfig.PortBindings, {
    '80/tcp': [{ HostIp: '', HostPort: '8080' }],
    '53/udp': [{ HostIp: '127.0.0.1', HostPort: '' }],
    '7000/tcp': [{ HostIp: '', HostPort: '9000' }],
    '7001/tcp': [{ HostIp: '', HostPort: '9001' }],
    '443/tcp': [{ HostIp: '', HostPort: '' }],
  });
  assert.deepEqual(Object.keys(r.config.ExposedPorts ?? {}).sort(), [
    '443/tcp',
    '53/udp',
    '6000/tcp',
    '6001/tcp',
    '7000/tcp',
    '7001/tcp',
    '80/tcp',
  ]);
  assert.equal(r.hostConfig.PublishAllPorts, true);
  assert.deepEqual(r.hostConfig.ExtraHosts, ['db:10.0.0.5']);
  assert.deepEqual(r.hostConfig.Dns, ['10.0.0.53']);
  assert.deepEqual(r.hostConfig.DnsSearch, ['example.test']);
  assert.deepEqual(r.hostConfig.DnsOptions, ['ndots:2']);
  refused(
    ['-p', '8000-8002:80-81', 'img'],
    "skiff: invalid ranges specified for container and host Ports: 80-81 and 8000-8002.\nSee 'skiff run --help'.",
  );
  refused(['-p', '80/icmp', 'img'], "skiff: invalid proto: icmp.\nSee 'skiff run --help'.");
  refused(['-p', '1.2.3:80:80', 'img'], "skiff: invalid IP address: 1.2.3.\nSee 'skiff run --help'.");
  refused(
    ['--add-host', 'nohost', 'img'],
    'skiff: bad format for add-host: "nohost".\nSee \'skiff run --help\'.',
  );
});

test('health flags: --health-* make a CMD-SHELL Healthcheck, --no-healthcheck NONE', () => {
  assert.equal(run(['busybox']).config.Healthcheck, undefined, 'none: the image decides');
  assert.deepEqual(
    run([
      '--health-cmd',
      'test -f /ok',
      '--health-interval',
      '1m30s',
      '--health-timeout',
      '5s',
      '--health-retries',
      '4',
      '--health-start-period',
      '10s',
      '--health-start-interval',
      '500ms',
      'busybox',
    ]).config.Healthcheck,
    {
      Test: ['CMD-SHELL', 'test -f /ok'],
      Interval: 90e9,
      Timeout: 5e9,
      StartPeriod: 10e9,
      StartInterval: 5e8,
      Retries: 4,
    },
  );
  // Without --health-cmd the image's test stays (no Test sent).
  assert.deepEqual(run(['--health-retries', '2', 'busybox']).config.Healthcheck, {
    Interval: 0,
    Timeout: 0,
    StartPeriod: 0,
    StartInterval: 0,
    Retries: 2,
  });
  assert.deepEqual(run(['--no-healthcheck', 'busybox']).config.Healthcheck, { Test: ['NONE'] });
  refused(
    ['--health-interval', 'soon', 'busybox'],
    `invalid argument "soon" for "--health-interval" flag: time: invalid duration "soon"\nSee 'skiff run --help'.`,
  );
  refused(
    ['--health-retries', 'x', 'busybox'],
    `invalid argument "x" for "--health-retries" flag: strconv.ParseInt: parsing "x": invalid syntax\nSee 'skiff run --help'.`,
  );
  refused(
    ['--health-interval', '-1s', 'busybox'],
    "skiff: --health-interval cannot be negative.\nSee 'skiff run --help'.",
  );
  refused(
    ['--no-healthcheck', '--health-cmd', 'true', 'busybox'],
    "skiff: --no-healthcheck conflicts with --health-* options.\nSee 'skiff run --help'.",
  );
});
