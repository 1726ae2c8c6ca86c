/**
 * One suite for the cgroup manager, run against each implementation this machine offers: the v1
 * hierarchies on their own, and the cgroup2 hierarchy on its own (on a hybrid host, the unified
 * mount with only what it holds). Everything is read back from the kernel's files, not from what the
 * manager says it did. Needs root; skipped otherwise.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import type { Resources } from '../../src/oci/index.ts';
import {
  type Cgroup,
  type CgroupLayout,
  cgroupPids,
  cgroupRecord,
  createCgroup,
  destroyCgroup,
  freezeCgroup,
  killCgroup,
  loadCgroup,
  loadCgroupLayout,
  restrictLayout,
  thawCgroup,
  updateCgroup,
} from '../../src/runtime/cgroups/index.ts';

interface Implementation {
  name: string;
  layout: CgroupLayout;
  /** Limits this implementation can apply here, and the file contents that prove them. */
  resources: Resources;
  expected: { hierarchy: string; file: string; value: string | RegExp }[];
  /** A change for `updateCgroup`, with its proof; undefined when nothing updatable is offered. */
  update?: { resources: Resources; hierarchy: string; file: string; value: string };
  /** Resources the kernel refuses only after the cgroup exists, to prove create cleans up. */
  failing: Resources;
  /** /proc/<pid>/status State letter a frozen task shows, where the freezer makes it visible. */
  frozenState?: string;
}

const isRoot = process.getuid?.() === 0;
const unique = () => `skiff-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

function hugepageSizes(): string[] {
  if (!existsSync('/sys/kernel/mm/hugepages')) return [];
  return readdirSync('/sys/kernel/mm/hugepages').flatMap((entry) => {
    const kb = Number(/^hugepages-(\d+)kB$/.exec(entry)?.[1]);
    if (!kb) return [];
    if (kb % (1024 * 1024) === 0) return [`${kb / (1024 * 1024)}GB`];
    return kb % 1024 === 0 ? [`${kb / 1024}MB`] : [`${kb}KB`];
  });
}

/** A whole disk's major:minor, for throttling rules the kernel accepts. */
function blockDevice(): string | undefined {
  if (!existsSync('/sys/block')) return undefined;
  for (const name of readdirSync('/sys/block').sort()) {
    if (/^(ram|loop|zram|nbd|dm-)/.test(name)) continue;
    const dev = readFileSync(`/sys/block/${name}/dev`, 'utf8').trim();
    if (/^\d+:\d+$/.test(dev)) return dev;
  }
  return undefined;
}

function v1Implementation(layout: CgroupLayout): Implementation {
  const has = (controller: string) => layout.hierarchies.some((h) => h.controllers.includes(controller));
  const resources: Resources = {};
  const expected: Implementation['expected'] = [];
  if (has('memory')) {
    const memory = layout.hierarchies.find((h) => h.controllers.includes('memory'))!;
    const memsw = existsSync(path.join(memory.mountpoint, 'memory.memsw.limit_in_bytes'));
    resources.memory = { limit: 64 << 20, ...(memsw ? { swap: 128 << 20 } : {}) };
    expected.push({ hierarchy: 'memory', file: 'memory.limit_in_bytes', value: String(64 << 20) });
    if (memsw)
      expected.push({ hierarchy: 'memory', file: 'memory.memsw.limit_in_bytes', value: String(128 << 20) });
  }
  if (has('cpu')) {
    resources.cpu = { shares: 512, quota: 50000, period: 100000 };
    expected.push({ hierarchy: 'cpu', file: 'cpu.shares', value: '512' });
    expected.push({ hierarchy: 'cpu', file: 'cpu.cfs_quota_us', value: '50000' });
    expected.push({ hierarchy: 'cpu', file: 'cpu.cfs_period_us', value: '100000' });
  }
  if (has('cpuset')) {
    resources.cpu = { ...resources.cpu, cpus: '0' };
    expected.push({ hierarchy: 'cpuset', file: 'cpuset.cpus', value: '0' });
  }
  if (has('pids')) {
    resources.pids = { limit: 64 };
    expected.push({ hierarchy: 'pids', file: 'pids.max', value: '64' });
  }
  const disk = blockDevice();
  if (has('blkio') && disk) {
    const [major, minor] = disk.split(':').map(Number) as [number, number];
    resources.blockIO = { throttleReadBpsDevice: [{ major, minor, rate: 1 << 20 }] };
    expected.push({
      hierarchy: 'blkio',
      file: 'blkio.throttle.read_bps_device',
      value: `${disk} ${1 << 20}`,
    });
  }
  return {
    name: 'cgroup v1',
    layout,
    resources,
    expected,
    ...(has('pids')
      ? { update: { resources: { pids: { limit: 32 } }, hierarchy: 'pids', file: 'pids.max', value: '32' } }
      : {}),
    // No such block device: the kernel says ENODEV once the cgroup exists.
    failing: has('blkio')
      ? { blockIO: { throttleReadBpsDevice: [{ major: 1, minor: 12345, rate: 1 }] } }
      : { pids: { limit: 1.5 } },
    ...(has('freezer') ? { frozenState: 'D' } : {}),
  };
}

function v2Implementation(layout: CgroupLayout): Implementation {
  const unified = layout.hierarchies[0]!;
  const offers = (controller: string) => unified.controllers.includes(controller);
  const resources: Resources = {};
  const expected: Implementation['expected'] = [];
  const sizes = offers('hugetlb') ? hugepageSizes() : [];
  if (sizes.length > 0) {
    resources.hugepageLimits = [{ pageSize: sizes[0]!, limit: 0 }];
    expected.push({ hierarchy: 'unified', file: `hugetlb.${sizes[0]}.max`, value: '0' });
  }
  if (offers('pids')) {
    resources.pids = { limit: 64 };
    expected.push({ hierarchy: 'unified', file: 'pids.max', value: '64' });
  }
  if (offers('memory')) {
    resources.memory = { limit: 64 << 20 };
    expected.push({ hierarchy: 'unified', file: 'memory.max', value: String(64 << 20) });
  }
  let update: Implementation['update'];
  if (sizes.length > 0) {
    const size = 2 * pageBytes(sizes[0]!);
    update = {
      resources: { hugepageLimits: [{ pageSize: sizes[0]!, limit: size }] },
      hierarchy: 'unified',
      file: `hugetlb.${sizes[0]}.max`,
      value: String(size),
    };
  } else if (offers('pids')) {
    update = { resources: { pids: { limit: 32 } }, hierarchy: 'unified', file: 'pids.max', value: '32' };
  }
  return {
    name: 'cgroup v2',
    layout,
    resources,
    expected,
    ...(update ? { update } : {}),
    // Only a cgroup that exists can tell which huge page sizes it has.
    failing: { hugepageLimits: [{ pageSize: '3MB', limit: 0 }] },
  };
}

function pageBytes(size: string): number {
  const match = /^(\d+)([KMG])B$/.exec(size)!;
  return Number(match[1]) * { K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[match[2] as 'K' | 'M' | 'G'];
}

const layout = isRoot ? await loadCgroupLayout() : undefined;
const implementations: Implementation[] = [];
if (layout?.hierarchies.some((h) => h.version === 1))
  implementations.push(v1Implementation(restrictLayout(layout, 1)));
if (layout?.hierarchies.some((h) => h.version === 2))
  implementations.push(v2Implementation(restrictLayout(layout, 2)));

function dirOf(handle: Cgroup, key: string): string {
  const entry = handle.dirs.find((d) => d.hierarchy.key === key || d.hierarchy.controllers.includes(key));
  assert.ok(entry, `the cgroup has a directory in the ${key} hierarchy`);
  return entry.dir;
}

const read = (dir: string, file: string) => readFileSync(path.join(dir, file), 'utf8').trim();

/** Removes whatever a test left, whatever happened: thaw, kill, wait, then the directories. */
function cleanUp(t: TestContext, impl: Implementation, cgroupsPath: string, child?: ChildProcess) {
  t.after(async () => {
    const handle = loadCgroup(impl.layout, cgroupsPath);
    if (child && child.exitCode === null && child.signalCode === null) {
      // The test may have failed while the cgroup was frozen; a frozen task cannot die until thawed.
      await thawCgroup(handle).catch(() => undefined);
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    await destroyCgroup(handle);
    // destroy removes the leaf only (as runc); the levels above it in a nested test path go here.
    const parts = cgroupsPath.split('/').filter(Boolean);
    for (const h of impl.layout.hierarchies) {
      for (let depth = parts.length - 1; depth >= 1; depth--) {
        try {
          rmdirSync(path.join(h.mountpoint, ...parts.slice(0, depth)));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
    }
  });
}

/** A process that burns CPU, so that frozen and thawed are told apart by whether its CPU time moves. */
function spawnBusy(): ChildProcess {
  return spawn('/bin/sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' });
}

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

const procState = (pid: number) => /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Whether CPU time stays still over a window: a frozen task gets none. */
async function staysStill(pid: number, windowMs = 300): Promise<boolean> {
  const start = cpuTicks(pid);
  const end = Date.now() + windowMs;
  while (Date.now() < end) {
    if (cpuTicks(pid) !== start) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

for (const impl of implementations) {
  describe(`cgroup manager conformance: ${impl.name}`, { concurrency: false }, () => {
    test('creates the cgroup in every hierarchy and applies the limits the kernel then reports', async (t) => {
      const cgroupsPath = `/${unique()}`;
      cleanUp(t, impl, cgroupsPath);
      const handle = await createCgroup(impl.layout, {
        cgroupsPath,
        containerId: 'x',
        resources: impl.resources,
      });
      assert.equal(handle.dirs.length, impl.layout.hierarchies.length);
      for (const entry of handle.dirs) assert.ok(existsSync(entry.dir), `${entry.dir} exists`);
      assert.deepEqual(
        handle.procsFiles,
        handle.dirs.map((d) => path.join(d.dir, 'cgroup.procs')),
      );
      for (const { hierarchy, file, value } of impl.expected) {
        const actual = read(dirOf(handle, hierarchy), file);
        if (typeof value === 'string') assert.equal(actual, value, `${hierarchy}/${file}`);
        else assert.match(actual, value, `${hierarchy}/${file}`);
      }
      if (impl.update) {
        await updateCgroup(handle, impl.update.resources);
        assert.equal(read(dirOf(handle, impl.update.hierarchy), impl.update.file), impl.update.value);
      }
      const again = loadCgroup(impl.layout, JSON.parse(JSON.stringify(cgroupRecord(handle))));
      assert.deepEqual(
        again.dirs.map((d) => d.dir),
        handle.dirs.map((d) => d.dir),
      );
      await destroyCgroup(handle);
      for (const entry of handle.dirs) assert.ok(!existsSync(entry.dir), `${entry.dir} is gone`);
      await destroyCgroup(handle);
    });

    test('a process joins by its procs files; it is listed, frozen, thawed and killed through the cgroup', async (t) => {
      const cgroupsPath = `/${unique()}`;
      const child = spawnBusy();
      cleanUp(t, impl, cgroupsPath, child);
      const pid = child.pid!;
      const handle = await createCgroup(impl.layout, { cgroupsPath, containerId: 'x' });
      for (const file of handle.procsFiles) writeFileSync(file, String(pid));
      assert.deepEqual(await cgroupPids(handle), [pid]);
      for (const entry of handle.dirs)
        assert.match(read(entry.dir, 'cgroup.procs'), new RegExp(`^${pid}$`, 'm'));

      await freezeCgroup(handle);
      if (impl.frozenState) assert.equal(procState(pid), impl.frozenState);
      assert.ok(await staysStill(pid), 'a frozen process gets no CPU time');
      await thawCgroup(handle);
      await until(
        'the thawed process runs again',
        () => procState(pid) !== 'D' && !Number.isNaN(cpuTicks(pid)),
      );
      const before = cpuTicks(pid);
      await until('the thawed process gets CPU time', () => cpuTicks(pid) > before);

      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.once('exit', (_code, signal) => resolve(signal)),
      );
      await killCgroup(handle, 'SIGKILL');
      assert.equal(await exited, 'SIGKILL');
      await until('the cgroup is empty', () => read(handle.dirs[0]!.dir, 'cgroup.procs') === '');
      assert.deepEqual(await cgroupPids(handle), []);
      await destroyCgroup(handle);
      for (const entry of handle.dirs) assert.ok(!existsSync(entry.dir), `${entry.dir} is gone`);
    });

    test('signals other than SIGKILL reach every process, sub-cgroups included', async (t) => {
      const cgroupsPath = `/${unique()}`;
      const child = spawnBusy();
      cleanUp(t, impl, cgroupsPath, child);
      const handle = await createCgroup(impl.layout, { cgroupsPath, containerId: 'x' });
      // A sub-cgroup, as a container with its own cgroup namespace makes; v2 leaves must hold the processes.
      for (const entry of handle.dirs) {
        const inner = path.join(entry.dir, 'inner');
        mkdirSync(inner);
        for (const file of ['cpuset.cpus', 'cpuset.mems']) {
          if (existsSync(path.join(inner, file)))
            writeFileSync(path.join(inner, file), read(entry.dir, file));
        }
        writeFileSync(path.join(inner, 'cgroup.procs'), String(child.pid));
      }
      assert.deepEqual(await cgroupPids(handle), [child.pid]);
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.once('exit', (_code, signal) => resolve(signal)),
      );
      await killCgroup(handle, 'SIGTERM');
      assert.equal(await exited, 'SIGTERM');
      await destroyCgroup(handle);
      for (const entry of handle.dirs) assert.ok(!existsSync(entry.dir), `${entry.dir} is gone`);
    });

    test('a create the kernel refuses leaves nothing behind, not even the levels it made', async (t) => {
      const top = unique();
      const cgroupsPath = `/${top}/a/b`;
      cleanUp(t, impl, cgroupsPath);
      await assert.rejects(
        createCgroup(impl.layout, { cgroupsPath, containerId: 'x', resources: impl.failing }),
        (err: Error) => /`\/[^`]*`: E[A-Z]+|huge pages|integer/.test(err.message),
      );
      for (const h of impl.layout.hierarchies)
        assert.ok(!existsSync(path.join(h.mountpoint, top)), `${h.mountpoint}/${top} removed`);
    });
  });
}

test('the cgroup conformance suite has something to run on this machine', {
  skip: !isRoot && 'needs root',
}, () => {
  assert.ok(implementations.length > 0, 'no cgroup hierarchy found');
});
