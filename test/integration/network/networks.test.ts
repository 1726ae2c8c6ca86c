/**
 * Bridge networks made by the NetworkStore, attached to namespaces the test pins itself (standing in
 * for containers): addresses from a subnet no host route uses, two namespaces reaching each other
 * across the bridge, a port published on 127.0.0.1 by portmap reaching a server inside one, and
 * nothing left after detach and remove (veth, lease, iptables rule, bridge, configuration).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import {
  createNetns,
  formatCidr,
  hostRoutes,
  NetworkStore,
  overlaps,
  parseCidr,
  removeNetns,
} from '../../../src/network/index.ts';
import { freePort } from '../../helpers/registry.ts';

function store(t: { after: (fn: () => Promise<void> | void) => void }) {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-nets-'));
  const s = new NetworkStore({ configDir: path.join(dir, 'conf'), runDir: path.join(dir, 'run') });
  const made: string[] = [];
  t.after(async () => {
    for (const ns of made) await removeNetns(ns);
    for (const n of await s.list()) await s.remove(n);
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir,
    s,
    async netns(name: string) {
      const file = path.join(dir, `ns-${name}`);
      await createNetns(file);
      made.push(file);
      return file;
    },
  };
}

const inNetns = (netns: string, ...args: string[]) =>
  spawnSync('nsenter', [`--net=${netns}`, ...args], { encoding: 'utf8' });

function iptablesMentioning(needle: string): string[] {
  const rules = execFileSync('iptables-save', [], { encoding: 'utf8' });
  return rules.split('\n').filter((l) => l.includes(needle));
}

test('create picks a free subnet, refuses duplicates and bad input, and lists networks', async (t) => {
  const { s } = store(t);
  const name = `n${process.pid}a`;
  const net = await s.create({ name, labels: { team: 'a' } });
  assert.equal(net.driver, 'bridge');
  assert.equal(net.managed, true);
  assert.match(net.id, /^[0-9a-f]{64}$/);
  const subnet = parseCidr(net.subnets[0]!.subnet);
  for (const route of await hostRoutes())
    assert.equal(
      overlaps(route, subnet),
      false,
      `${formatCidr(subnet)} overlaps the host route ${formatCidr(route)}`,
    );
  assert.equal(net.subnets[0]!.gateway, formatCidr(subnet).replace(/0\/24$/, '1'));
  assert.deepEqual(net.labels, { team: 'a' });
  await assert.rejects(s.create({ name }), /network with name .* already exists/);
  await assert.rejects(s.create({ name: 'host' }), /reserved/);
  await assert.rejects(s.create({ name: 'a b' }), /invalid network name/);
  await assert.rejects(
    s.create({ name: 'x1', subnet: '10.90.0.1/24' }),
    /host bits are set; did you mean 10\.90\.0\.0\/24/,
  );
  await assert.rejects(s.create({ name: 'x2', subnet: net.subnets[0]!.subnet }), /overlaps network/);
  await assert.rejects(
    s.create({ name: 'x3', subnet: '10.91.0.0/24', gateway: '10.92.0.1' }),
    /not in subnet/,
  );
  await assert.rejects(s.create({ name: 'x4', driver: 'overlay' }), /driver `overlay` is not supported/);
  const second = await s.create({ name: `n${process.pid}b` });
  assert.notEqual(second.subnets[0]!.subnet, net.subnets[0]!.subnet);
  assert.deepEqual((await s.list()).map((n) => n.name).sort(), [name, `n${process.pid}b`].sort());
  assert.equal((await s.get(net.id.slice(0, 6))).name, name);
  await assert.rejects(s.get('nope'), /network nope not found/);
});

test('two namespaces on one network reach each other; a published port reaches a server inside', async (t) => {
  const { s, netns } = store(t);
  const net = await s.create({ name: `n${process.pid}c` });
  const a = await netns('a');
  const b = await netns('b');
  const port = await freePort();
  const ea = await s.attach(net, {
    containerId: 'ctr-a',
    netns: a,
    ifName: 'eth0',
    portMappings: [{ hostPort: port, containerPort: 8080, protocol: 'tcp', hostIP: '127.0.0.1' }],
  });
  const fixed = formatCidr(parseCidr(net.subnets[0]!.subnet)).replace(/0\/24$/, '77');
  const eb = await s.attach(net, { containerId: 'ctr-b', netns: b, ifName: 'eth0', ip: fixed });
  assert.equal(eb.ipAddress, fixed, '--ip is honoured');
  assert.equal(ea.prefixLen, 24);
  assert.equal(ea.gateway, net.subnets[0]!.gateway);
  const ping = inNetns(b, 'busybox', 'ping', '-c', '1', '-W', '2', ea.ipAddress);
  assert.equal(ping.status, 0, ping.stdout + ping.stderr);

  // A server inside a answers on the host's 127.0.0.1:port.
  const server = spawn(
    'nsenter',
    [`--net=${a}`, 'busybox', 'nc', '-l', '-p', '8080', '-e', 'echo', 'hello-from-a'],
    {
      stdio: 'ignore',
    },
  );
  t.after(() => server.kill('SIGKILL'));
  let reply = '';
  for (let i = 0; i < 50 && !reply.includes('hello'); i++) {
    reply = await new Promise<string>((resolve) => {
      const c = connect(port, '127.0.0.1');
      let data = '';
      c.on('data', (d) => (data += d));
      c.on('close', () => resolve(data));
      c.on('error', () => resolve(''));
    });
    if (!reply) await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(reply, /hello-from-a/);
  assert.ok(iptablesMentioning('ctr-a').length > 0, 'portmap and firewall rules exist while attached');

  await s.detach(net.name, 'ctr-a', 'eth0', a);
  await s.detach(net.name, 'ctr-b', 'eth0', b);
  assert.deepEqual(iptablesMentioning('ctr-a'), []);
  assert.deepEqual(iptablesMentioning('ctr-b'), []);
  assert.deepEqual(iptablesMentioning(`${ea.ipAddress}/`), []);
  assert.equal(
    execFileSync('ip', ['-o', 'link', 'show', 'master', net.bridge!], { encoding: 'utf8' }).trim(),
    '',
  );
  const leases = path.join(s.runDir, 'ipam', net.name);
  assert.deepEqual(existsSync(leases) ? readdirSync(leases).filter((f) => /^\d/.test(f)) : [], []);

  await s.remove(net);
  assert.notEqual(spawnSync('ip', ['link', 'show', net.bridge!]).status, 0, 'the bridge is gone');
  assert.equal(existsSync(net.file), false);
});
