/**
 * The CNI executor against Debian's real plugins (bridge, host-local, portmap) in network namespaces
 * the test pins itself: a bridge and an address range of its own (10.233.N.0/24, never the host's
 * routes), host-local leases in a temporary directory. Only addresses inside those namespaces are
 * contacted. Every test removes its bridge, namespace and leases.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import {
  Cni,
  CniError,
  containerAddresses,
  createNetns,
  parseConfigList,
  removeNetns,
} from '../../../src/network/index.ts';

const PLUGIN_DIRS = ['/usr/lib/cni', '/opt/cni/bin'];

interface Sandbox {
  readonly dir: string;
  readonly netns: string;
  readonly bridge: string;
  readonly subnet: string;
  readonly gateway: string;
  readonly cni: Cni;
  readonly dataDir: string;
}

function freeThirdOctet(): number {
  const routes = execFileSync('ip', ['-4', 'route', 'show', 'table', 'all'], { encoding: 'utf8' });
  for (let i = 0; i < 50; i++) {
    const n = 10 + Math.floor(Math.random() * 240);
    if (!routes.includes(`10.233.${n}.`)) return n;
  }
  throw new Error('no free 10.233.N.0/24 range');
}

async function sandbox(t: { after: (fn: () => Promise<void> | void) => void }): Promise<Sandbox> {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-cni-'));
  const n = freeThirdOctet();
  const s: Sandbox = {
    dir,
    netns: path.join(dir, 'netns'),
    bridge: `skt${Math.random().toString(36).slice(2, 10)}`,
    subnet: `10.233.${n}.0/24`,
    gateway: `10.233.${n}.1`,
    cni: new Cni({ pluginDirs: PLUGIN_DIRS, cacheDir: path.join(dir, 'cache') }),
    dataDir: path.join(dir, 'ipam'),
  };
  await createNetns(s.netns);
  t.after(async () => {
    await removeNetns(s.netns);
    spawnSync('ip', ['link', 'del', s.bridge], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });
  return s;
}

function bridgeList(s: Sandbox, extra: object[] = [], ipam: object = {}) {
  return parseConfigList(
    JSON.stringify({
      cniVersion: '1.0.0',
      name: `net-${s.bridge}`,
      plugins: [
        {
          type: 'bridge',
          bridge: s.bridge,
          isGateway: true,
          ipMasq: false,
          ipam: { type: 'host-local', ranges: [[{ subnet: s.subnet }]], dataDir: s.dataDir, ...ipam },
        },
        ...extra,
      ],
    }),
  );
}

function inNetns(s: Sandbox, ...args: string[]) {
  return spawnSync('nsenter', [`--net=${s.netns}`, ...args], { encoding: 'utf8' });
}

function leases(s: Sandbox): string[] {
  const dir = path.join(s.dataDir, `net-${s.bridge}`);
  return existsSync(dir) ? readdirSync(dir).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)) : [];
}

test('a pinned namespace has its loopback up and is gone after removal', async (t) => {
  const s = await sandbox(t);
  const lo = inNetns(s, 'ip', '-o', 'link', 'show', 'lo');
  assert.match(lo.stdout, /<LOOPBACK,UP/);
  await assert.rejects(createNetns(s.netns), /EEXIST/);
  await removeNetns(s.netns);
  assert.equal(existsSync(s.netns), false);
  assert.equal(readFileMountinfo().includes(s.netns), false);
  await removeNetns(s.netns); // twice is fine
});

function readFileMountinfo(): string {
  return execFileSync('cat', ['/proc/self/mountinfo'], { encoding: 'utf8' });
}

test('ADD attaches the container to a bridge; CHECK passes; DEL undoes everything', async (t) => {
  const s = await sandbox(t);
  const list = bridgeList(s);
  const attachment = { containerId: 'c1', netns: s.netns, ifName: 'eth0' };
  const result = await s.cni.add(list, attachment);
  const [ip] = containerAddresses(result);
  assert.ok(ip, JSON.stringify(result));
  assert.match(ip.address, new RegExp(`^10\\.233\\.${s.subnet.split('.')[2]}\\.\\d+/24$`));
  assert.equal(ip.gateway, s.gateway);
  assert.match(
    inNetns(s, 'ip', '-o', '-4', 'addr', 'show', 'eth0').stdout,
    new RegExp(ip.address.replace(/\./g, '\\.')),
  );
  // The container reaches its gateway (the bridge, inside this host only).
  const ping = inNetns(s, 'busybox', 'ping', '-c', '1', '-W', '2', s.gateway);
  assert.equal(ping.status, 0, ping.stdout + ping.stderr);
  assert.deepEqual(leases(s), [ip.address.split('/')[0]]);
  assert.equal((await s.cni.cached(list.name, 'c1', 'eth0'))?.result?.ips?.[0]?.address, ip.address);

  await s.cni.check(list.name, attachment);

  await s.cni.del(list.name, attachment);
  assert.notEqual(inNetns(s, 'ip', 'link', 'show', 'eth0').status, 0, 'eth0 is gone from the namespace');
  assert.deepEqual(leases(s), []);
  assert.equal(await s.cni.cached(list.name, 'c1', 'eth0'), undefined);
  const ports = execFileSync('ip', ['-o', 'link', 'show', 'master', s.bridge], { encoding: 'utf8' });
  assert.equal(ports.trim(), '', 'no veth is left on the bridge');
  await s.cni.del(list.name, attachment, list); // a second DEL succeeds
});

test('a plugin error carries the plugin message and code; DEL still cleans up the failed ADD', async (t) => {
  const s = await sandbox(t);
  // The bridge attaches (veth, lease), then tuning fails on a sysctl that does not exist.
  const list = bridgeList(s, [{ type: 'tuning', sysctl: { 'net.ipv4.no_such_sysctl': '1' } }]);
  const attachment = { containerId: 'c2', netns: s.netns, ifName: 'eth0' };
  const err = await s.cni.add(list, attachment).then(
    () => assert.fail('ADD succeeded'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof CniError, String(err));
  assert.match(
    err.message,
    /CNI plugin tuning \(network net-skt\w+, container c2\) ADD failed: .*no_such_sysctl/,
  );
  assert.ok((await s.cni.cached(list.name, 'c2', 'eth0')) !== undefined, 'the attempt is cached for DEL');
  assert.equal(leases(s).length, 1, 'the bridge plugin had leased an address before tuning failed');
  await s.cni.del(list.name, attachment);
  assert.equal(await s.cni.cached(list.name, 'c2', 'eth0'), undefined);
  assert.deepEqual(leases(s), []);
  assert.notEqual(inNetns(s, 'ip', 'link', 'show', 'eth0').status, 0);
});

test('a missing plugin is named, and nothing is attached or cached', async (t) => {
  const s = await sandbox(t);
  const list = bridgeList(s, [{ type: 'no-such-plugin' }]);
  await assert.rejects(
    s.cni.add(list, { containerId: 'c3', netns: s.netns, ifName: 'eth0' }),
    /CNI plugin `no-such-plugin` not found in \/usr\/lib\/cni:\/opt\/cni\/bin/,
  );
  assert.equal(await s.cni.cached(list.name, 'c3', 'eth0'), undefined);
  assert.notEqual(inNetns(s, 'ip', 'link', 'show', 'eth0').status, 0);
});

test('several offered versions: the highest every plugin supports is used', async (t) => {
  const s = await sandbox(t);
  const base = JSON.parse(bridgeList(s).bytes) as Record<string, unknown>;
  // Debian's plugins (1.1.x) support up to 1.0.0, so 1.1.0 must not be chosen.
  const list = parseConfigList(
    JSON.stringify({ ...base, cniVersion: '0.4.0', cniVersions: ['0.4.0', '1.0.0', '1.1.0'] }),
  );
  const attachment = { containerId: 'c4', netns: s.netns, ifName: 'eth0' };
  const result = await s.cni.add(list, attachment);
  assert.equal(result.cniVersion, '1.0.0');
  await s.cni.del(list.name, attachment);
});
