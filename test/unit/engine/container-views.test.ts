// The engine's views of a container as Docker's API shows them: State / Status strings, the inspect
// JSON (ContainerJSON), the GraphDriver from snapshot mounts, `ps` selection and filters, and the
// writable layer's size.
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import {
  type Container,
  commandLine,
  directorySize,
  dockerStateString,
  graphDriverOf,
  inspectContainer,
  parseFilterArgs,
  selectContainers,
  statusText,
  ZERO_TIME,
} from '../../../src/engine/index.ts';

const NOW = Date.parse('2026-11-23T15:00:00.000Z');
const ago = (ms: number) => new Date(NOW - ms).toISOString();

function container(over: Partial<Container> & { id?: string; name?: string; created?: string }): Container {
  return {
    id: over.id ?? 'a'.repeat(64),
    name: over.name ?? 'box',
    image: 'busybox',
    imageId: `sha256:${'b'.repeat(64)}`,
    created: over.created ?? ago(600_000),
    state: 'created',
    oomKilled: false,
    restartCount: 0,
    config: { Image: 'busybox', Cmd: ['sleep', '1000'] },
    hostConfig: {},
    mounts: [],
    ...over,
  };
}

const running = (over: Partial<Container> = {}) =>
  container({ state: 'running', pid: 4242, startedAt: ago(5_000), exitCode: 0, ...over });
const exited = (code: number, over: Partial<Container> = {}) =>
  container({ state: 'exited', startedAt: ago(400_000), finishedAt: ago(180_000), exitCode: code, ...over });

test("State.Status and the STATUS column read as Docker's State.StateString() and String()", () => {
  assert.equal(dockerStateString(container({})), 'created');
  assert.equal(statusText(container({}), NOW), 'Created');
  assert.equal(dockerStateString(running()), 'running');
  assert.equal(statusText(running(), NOW), 'Up 5 seconds');
  assert.equal(statusText(running({ startedAt: ago(300) }), NOW), 'Up Less than a second');
  assert.equal(statusText(running({ startedAt: ago(1000) }), NOW), 'Up 1 second');
  assert.equal(statusText(running({ startedAt: ago(90_000) }), NOW), 'Up About a minute');
  assert.equal(statusText(running({ startedAt: ago(2 * 3_600_000) }), NOW), 'Up 2 hours');
  assert.equal(dockerStateString(exited(0)), 'exited');
  assert.equal(statusText(exited(0), NOW), 'Exited (0) 3 minutes ago');
  assert.equal(statusText(exited(137, { finishedAt: ago(2000) }), NOW), 'Exited (137) 2 seconds ago');
  assert.equal(dockerStateString(container({ state: 'removing' })), 'removing');
  assert.equal(statusText(container({ state: 'removing' }), NOW), 'Removal In Progress');
  // A container whose start failed was never started: Docker still calls it Created.
  assert.equal(
    statusText(container({ state: 'created', exitCode: 127, error: 'exec: not found' }), NOW),
    'Created',
  );
});

test('the command is Entrypoint then Cmd, joined by spaces', () => {
  assert.equal(
    commandLine(container({ config: { Entrypoint: ['/bin/sh', '-c'], Cmd: ['echo hi'] } })),
    '/bin/sh -c echo hi',
  );
  assert.equal(commandLine(container({ config: {} })), '');
});

const PATHS = { dir: '/var/lib/skiff/containers/aaa', log: '/var/lib/skiff/containers/aaa/ctr.log' };
const DRIVER = { Name: 'overlay2', Data: { MergedDir: '/m' } };

test("inspect: Docker's field names and order, and the State of a container that ran and exited", () => {
  const c = exited(3, {
    error: undefined,
    config: { Image: 'busybox', Entrypoint: ['/bin/sh'], Cmd: ['-c', 'exit 3'], Labels: { a: 'b' } },
    hostConfig: { AutoRemove: false, NetworkMode: 'host' },
  });
  const json = inspectContainer(c, { paths: PATHS, graphDriver: DRIVER });
  assert.deepEqual(Object.keys(json), [
    'Id',
    'Created',
    'Path',
    'Args',
    'State',
    'Image',
    'ResolvConfPath',
    'HostnamePath',
    'HostsPath',
    'LogPath',
    'Name',
    'RestartCount',
    'Driver',
    'Platform',
    'MountLabel',
    'ProcessLabel',
    'AppArmorProfile',
    'ExecIDs',
    'HostConfig',
    'GraphDriver',
    'Mounts',
    'Config',
    'NetworkSettings',
  ]);
  assert.equal(json.Id, c.id);
  assert.equal(json.Name, '/box');
  assert.equal(json.Path, '/bin/sh');
  assert.deepEqual(json.Args, ['-c', 'exit 3']);
  assert.equal(json.Image, c.imageId);
  assert.equal(json.LogPath, PATHS.log);
  assert.equal(json.HostsPath, `${PATHS.dir}/hosts`);
  assert.equal(json.ResolvConfPath, `${PATHS.dir}/resolv.conf`);
  assert.equal(json.Driver, 'overlay2');
  assert.deepEqual(json.State, {
    Status: 'exited',
    Running: false,
    Paused: false,
    Restarting: false,
    OOMKilled: false,
    Dead: false,
    Pid: 0,
    ExitCode: 3,
    Error: '',
    StartedAt: c.startedAt,
    FinishedAt: c.finishedAt,
  });
  const config = json.Config as Record<string, unknown>;
  assert.equal(config.Hostname, c.id.slice(0, 12), 'Docker stores the short id as the default hostname');
  assert.equal(config.Image, 'busybox');
  assert.deepEqual(config.Labels, { a: 'b' });
  assert.equal(config.Tty, false);
  const host = json.HostConfig as Record<string, unknown>;
  assert.equal(host.NetworkMode, 'host');
  const byDefault = inspectContainer(container({ hostConfig: { NetworkMode: 'default' } }), {
    paths: PATHS,
    graphDriver: DRIVER,
  });
  assert.equal((byDefault.HostConfig as Record<string, unknown>).NetworkMode, 'skiff');
  assert.deepEqual(host.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
  assert.deepEqual(host.LogConfig, { Type: 'json-file', Config: {} });
  assert.equal(host.Memory, 0);
  assert.deepEqual(Object.keys((json.NetworkSettings as { Networks: object }).Networks), ['host']);
});

test('inspect: a created container has zero times, Pid 0; a running one its Pid and ExitCode 0', () => {
  const created = inspectContainer(container({}), { paths: PATHS, graphDriver: DRIVER });
  const state = created.State as Record<string, unknown>;
  assert.equal(state.Status, 'created');
  assert.equal(state.StartedAt, ZERO_TIME);
  assert.equal(state.FinishedAt, '0001-01-01T00:00:00Z');
  assert.equal(state.Pid, 0);
  const up = inspectContainer(running({ exitCode: 7, finishedAt: ago(60_000), oomKilled: false }), {
    paths: PATHS,
    graphDriver: DRIVER,
  }).State as Record<string, unknown>;
  assert.equal(up.Running, true);
  assert.equal(up.Pid, 4242);
  assert.equal(up.ExitCode, 0);
  const oom = inspectContainer(exited(137, { oomKilled: true }), { paths: PATHS, graphDriver: DRIVER })
    .State as Record<string, unknown>;
  assert.equal(oom.OOMKilled, true);
  assert.equal(oom.ExitCode, 137);
});

test('inspect: -s adds SizeRw and SizeRootFs after GraphDriver; no log path with the none driver', () => {
  const json = inspectContainer(container({ hostConfig: { LogConfig: { Type: 'none' } } }), {
    paths: PATHS,
    graphDriver: DRIVER,
    size: { rw: 10, rootFs: 1010 },
  });
  const keys = Object.keys(json);
  assert.deepEqual(keys.slice(keys.indexOf('GraphDriver'), keys.indexOf('GraphDriver') + 4), [
    'GraphDriver',
    'SizeRw',
    'SizeRootFs',
    'Mounts',
  ]);
  assert.equal(json.SizeRw, 10);
  assert.equal(json.SizeRootFs, 1010);
  assert.equal(json.LogPath, '');
});

test("inspect: Mounts as Docker's MountPoints (bind, named volume, tmpfs)", () => {
  const c = container({
    mounts: [
      { type: 'bind', source: '/srv', destination: '/data', readOnly: true, options: [] },
      {
        type: 'volume',
        source: '/v/vol/_data',
        destination: '/vol',
        readOnly: false,
        name: 'vol',
        options: [],
      },
      { type: 'tmpfs', source: 'tmpfs', destination: '/tmp', readOnly: false, options: [] },
    ],
  });
  assert.deepEqual(inspectContainer(c, { paths: PATHS, graphDriver: DRIVER }).Mounts, [
    { Type: 'bind', Source: '/srv', Destination: '/data', Mode: 'ro', RW: false, Propagation: 'rprivate' },
    {
      Type: 'volume',
      Name: 'vol',
      Source: '/v/vol/_data',
      Destination: '/vol',
      Driver: 'local',
      Mode: 'z',
      RW: true,
      Propagation: '',
    },
    { Type: 'tmpfs', Source: '', Destination: '/tmp', Mode: '', RW: true, Propagation: '' },
  ]);
});

test('Mounts leave out the --tmpfs mounts (HostConfig.Tmpfs), as Docker', () => {
  const c = container({
    hostConfig: { Tmpfs: { '/run': 'size=1m' } },
    mounts: [
      { type: 'tmpfs', source: '', destination: '/run', readOnly: false, options: [] },
      { type: 'tmpfs', source: '', destination: '/cache', readOnly: false, options: [] },
    ],
  });
  const mounts = inspectContainer(c, { paths: PATHS, graphDriver: DRIVER }).Mounts as {
    Destination: string;
  }[];
  assert.deepEqual(
    mounts.map((m) => m.Destination),
    ['/cache'],
  );
});

test('GraphDriver from the overlay mount spec (absolute and short-link lowerdirs) and from a bind', () => {
  assert.deepEqual(
    graphDriverOf(
      [
        {
          type: 'overlay',
          source: 'overlay',
          options: ['index=off', 'lowerdir=/l/2:/l/1', 'upperdir=/s/k/upper', 'workdir=/s/k/work'],
        },
      ],
      '/c/rootfs',
    ),
    {
      Name: 'overlay2',
      Data: { LowerDir: '/l/2:/l/1', MergedDir: '/c/rootfs', UpperDir: '/s/k/upper', WorkDir: '/s/k/work' },
    },
  );
  const short = graphDriverOf(
    [{ type: 'overlay', source: 'overlay', options: ['lowerdir=l/A:l/B', 'upperdir=/s/k/upper'], cwd: '/s' }],
    '/m',
  );
  assert.equal(short.Data?.LowerDir, '/s/l/A:/s/l/B');
  assert.deepEqual(graphDriverOf([{ type: 'bind', source: '/s/k/upper', options: ['rbind'] }], '/m'), {
    Name: 'vfs',
    Data: { MergedDir: '/m', UpperDir: '/s/k/upper' },
  });
});

// ---- ps selection ---------------------------------------------------------------------------------

const A = running({
  id: `a${'1'.repeat(63)}`,
  name: 'alpha',
  created: ago(30_000),
  config: { Labels: { app: 'web', tier: 'front' } },
});
const B = exited(0, { id: `b${'2'.repeat(63)}`, name: 'beta', created: ago(20_000) });
const C = exited(137, {
  id: `c${'3'.repeat(63)}`,
  name: 'gamma',
  created: ago(10_000),
  imageId: 'sha256:other',
});
const D = container({
  id: `d${'4'.repeat(63)}`,
  name: 'delta',
  created: ago(5_000),
  mounts: [
    {
      type: 'volume',
      source: '/v/data/_data',
      destination: '/data',
      readOnly: false,
      name: 'data',
      options: [],
    },
  ],
});
const ALL = [A, B, C, D];
const lookups = {
  imageIds: (ref: string) => (ref === 'busybox' ? [`sha256:${'b'.repeat(64)}`] : []),
  container: (ref: string) => {
    const c = ALL.find((x) => x.name === ref || x.id.startsWith(ref));
    if (!c) throw new Error(`No such container: ${ref}`);
    return c;
  },
};
const names = (options: Parameters<typeof selectContainers>[1]) =>
  selectContainers(ALL, options, lookups).map((c) => c.name);

test('ps: running only by default, -a all newest first, -n/-l the newest of every state', () => {
  assert.deepEqual(names({}), ['alpha']);
  assert.deepEqual(names({ all: true }), ['delta', 'gamma', 'beta', 'alpha']);
  assert.deepEqual(names({ limit: 2 }), ['delta', 'gamma']);
  assert.deepEqual(names({ limit: 1 }), ['delta']);
  assert.deepEqual(names({ limit: -1 }), ['alpha'], '-n -1 (the default) means no limit');
});

test('ps --filter: id, name (regexp on /name), label, status, exited, ancestor, before, since, volume', () => {
  assert.deepEqual(names({ all: true, filters: ['id=b2222'] }), ['beta']);
  assert.deepEqual(names({ all: true, filters: ['name=^/al'] }), ['alpha']);
  assert.deepEqual(names({ all: true, filters: ['name=^beta$'] }), ['beta']);
  assert.deepEqual(names({ all: true, filters: ['name=ta'] }), ['delta', 'beta']);
  assert.deepEqual(names({ all: true, filters: ['label=app'] }), ['alpha']);
  assert.deepEqual(names({ all: true, filters: ['label=app=web'] }), ['alpha']);
  assert.deepEqual(names({ all: true, filters: ['label=app=db'] }), []);
  assert.deepEqual(names({ filters: ['status=exited'] }), ['gamma', 'beta'], 'a status filter implies -a');
  assert.deepEqual(names({ filters: ['status=created', 'status=running'] }), ['delta', 'alpha']);
  assert.deepEqual(names({ all: true, filters: ['exited=137'] }), ['gamma']);
  assert.deepEqual(
    names({ all: true, filters: ['exited=0'] }),
    ['beta'],
    'running and created never match exited',
  );
  assert.deepEqual(names({ all: true, filters: ['ancestor=busybox'] }), ['delta', 'beta', 'alpha']);
  assert.deepEqual(names({ all: true, filters: ['ancestor=nothing'] }), []);
  assert.deepEqual(names({ all: true, filters: ['before=gamma'] }), ['beta', 'alpha']);
  assert.deepEqual(names({ all: true, filters: ['since=beta'] }), ['delta', 'gamma']);
  assert.deepEqual(names({ all: true, filters: ['volume=data'] }), ['delta']);
  assert.deepEqual(names({ all: true, filters: ['volume=/data'] }), ['delta']);
  assert.deepEqual(
    names({ all: true, filters: ['status=exited', 'name=gam'] }),
    ['gamma'],
    'keys combine with AND',
  );
});

test("ps --filter: bad input is refused with the daemon's words", () => {
  assert.throws(() => parseFilterArgs(['nonsense']), /bad format of filter \(expected name=value\)/);
  assert.throws(() => parseFilterArgs(['color=red']), { message: "invalid filter 'color'" });
  assert.throws(() => names({ filters: ['status=sleeping'] }), /invalid filter 'status=sleeping'/);
  assert.throws(() => names({ filters: ['exited=x'] }), /invalid filter 'exited=x'/);
  assert.throws(() => names({ filters: ['before=nope'] }), /No such container: nope/);
});

test("the writable layer's size: files and symlinks, not directories, hard links once", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-size-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'a', 'b'), { recursive: true });
  writeFileSync(path.join(dir, 'a', 'one'), 'x'.repeat(1000));
  writeFileSync(path.join(dir, 'a', 'b', 'two'), 'y'.repeat(234));
  linkSync(path.join(dir, 'a', 'one'), path.join(dir, 'hard'));
  symlinkSync('a/one', path.join(dir, 'link')); // 5 bytes of target
  assert.equal(await directorySize(dir), 1000 + 234 + 5);
  assert.equal(await directorySize(path.join(dir, 'missing')), 0);
});
