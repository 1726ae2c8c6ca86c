/**
 * Containers on CNI networks, for real: two containers on a user network (busybox httpd and a wget
 * by container name), a port published on 127.0.0.1 reached from the host, --network none and host,
 * the default network, a host port already taken, and after `rm -f` nothing left: no namespace,
 * veth, lease, CNI cache entry or iptables rule. Only loopback and the test's own namespaces are
 * contacted.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { get } from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import { type EngineEnv, engineEnv } from '../helpers/engine.ts';
import { freePort } from '../helpers/registry.ts';

const ok = (r: { status: number; stdout: string; stderr: string }) => {
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
};

function hostGet(port: number, file: string): Promise<string> {
  return new Promise((resolve) => {
    get({ host: '127.0.0.1', port, path: file, timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    }).on('error', () => resolve(''));
  });
}

/** What a container's networking leaves on the host while it is attached, by container id. */
function traces(e: EngineEnv, id: string): string[] {
  const found: string[] = [];
  const netns = path.join(e.runroot, 'netns', id);
  if (existsSync(netns)) found.push(`netns ${netns}`);
  const cache = path.join(e.runroot, 'cni', 'cache');
  if (existsSync(cache))
    found.push(
      ...readdirSync(cache)
        .filter((f) => f.includes(id))
        .map((f) => `cache ${f}`),
    );
  const ipam = path.join(e.runroot, 'cni', 'ipam');
  if (existsSync(ipam))
    for (const net of readdirSync(ipam))
      // host-local's lease file holds the container id it was given to.
      for (const f of readdirSync(path.join(ipam, net)).filter((f) => /^\d/.test(f)))
        if (readFileSync(path.join(ipam, net, f), 'utf8').includes(id)) found.push(`lease ${net}/${f}`);
  const rules = execFileSync('iptables-save', [], { encoding: 'utf8' });
  found.push(...rules.split('\n').filter((l) => l.includes(id.slice(0, 12)) || l.includes(id)));
  return found;
}

const veths = () =>
  execFileSync('ip', ['-o', 'link', 'show', 'type', 'veth'], { encoding: 'utf8' }).split('\n').filter(Boolean)
    .length;

test('two containers on a user network: one reaches the other by name; a published port reaches it from the host', async (t) => {
  const e = await engineEnv(t);
  const vethsBefore = veths();
  ok(e.skiff(['network', 'create', 'appnet']));
  const port = await freePort();
  const server = ok(
    e.skiff([
      'run',
      '-d',
      '--name',
      'web',
      '--network',
      'appnet',
      '-p',
      `127.0.0.1:${port}:80`,
      'busybox',
      'httpd',
      '-f',
      '-p',
      '80',
      '-h',
      '/etc',
    ]),
  ).trim();
  assert.equal(veths(), vethsBefore + 1);
  // By name, from another container on the network.
  let fetched = '';
  for (let i = 0; i < 20 && !fetched.includes(server.slice(0, 12)); i++)
    fetched = e.skiff([
      'run',
      '--rm',
      '--network',
      'appnet',
      'busybox',
      'wget',
      '-qO-',
      'http://web/hostname',
    ]).stdout;
  assert.equal(fetched, `${server.slice(0, 12)}\n`);
  // From the host, through the published port.
  assert.equal(await hostGet(port, '/hostname'), `${server.slice(0, 12)}\n`);
  assert.match(
    ok(e.skiff(['ps', '--format', '{{.Ports}}'])),
    new RegExp(`^127\\.0\\.0\\.1:${port}->80/tcp$`, 'm'),
  );
  const settings = JSON.parse(ok(e.skiff(['inspect', '-f', '{{json .NetworkSettings}}', 'web']))) as {
    Ports: Record<string, { HostIp: string; HostPort: string }[]>;
    Networks: Record<string, { IPAddress: string; Gateway: string; IPPrefixLen: number }>;
  };
  assert.deepEqual(settings.Ports['80/tcp'], [{ HostIp: '127.0.0.1', HostPort: String(port) }]);
  assert.match(settings.Networks.appnet!.IPAddress, /^10\.89\.\d+\.\d+$/);
  assert.equal(settings.Networks.appnet!.IPPrefixLen, 24);
  // A network in use stays, naming its users.
  const refused = e.skiff(['network', 'rm', 'appnet']);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /has active endpoints \(web\)/);
  // The same host port again: refused, and the refused container leaves nothing attached.
  const clash = e.skiff([
    'run',
    '-d',
    '--name',
    'clash',
    '--network',
    'appnet',
    '-p',
    `127.0.0.1:${port}:80`,
    'busybox',
    'true',
  ]);
  assert.equal(clash.status, 125, clash.stdout);
  assert.match(
    clash.stderr,
    new RegExp(`Bind for 127\\.0\\.0\\.1:${port} failed: port is already allocated`),
  );
  const clashId = ok(e.skiff(['inspect', '-f', '{{.Id}}', 'clash'])).trim();
  assert.deepEqual(traces(e, clashId), []);

  ok(e.skiff(['rm', '-f', 'web', 'clash']));
  assert.deepEqual(traces(e, server), []);
  assert.equal(veths(), vethsBefore);
  assert.equal(ok(e.skiff(['network', 'rm', 'appnet'])), 'appnet\n');
});

test('--network none has only loopback; host sees the host interfaces; bridge is the default network', async (t) => {
  const e = await engineEnv(t);
  assert.deepEqual(
    ok(e.skiff(['run', '--rm', '--network', 'none', 'busybox', 'ls', '/sys/class/net']))
      .split(/\s+/)
      .filter(Boolean),
    ['lo'],
  );
  const hostIfaces = readdirSync('/sys/class/net').sort();
  assert.deepEqual(
    ok(e.skiff(['run', '--rm', '--network', 'host', 'busybox', 'ls', '/sys/class/net']))
      .split(/\s+/)
      .filter(Boolean)
      .sort(),
    hostIfaces,
  );
  const out = ok(
    e.skiff([
      'run',
      '--rm',
      '--network',
      'bridge',
      'busybox',
      'sh',
      '-c',
      'ls /sys/class/net; ip -o -4 addr show eth0',
    ]),
  );
  assert.match(out, /^eth0\nlo\n/);
  assert.match(out, /inet 10\.89\.\d+\.\d+\/24/);
  assert.match(ok(e.skiff(['network', 'ls', '--format', '{{.Name}} {{.Driver}}'])), /^skiff bridge$/m);
  // --rm removed it: no namespace or lease left behind.
  assert.deepEqual(readdirSync(path.join(e.runroot, 'netns')), []);
});

test('run on a network that does not exist is refused at create', async (t) => {
  const e = await engineEnv(t);
  const r = e.skiff(['run', '--rm', '--network', 'nosuchnet', 'busybox', 'true']);
  assert.equal(r.status, 125);
  assert.match(r.stderr, /network nosuchnet not found/);
  assert.equal(ok(e.skiff(['ps', '-aq'])), '');
});
