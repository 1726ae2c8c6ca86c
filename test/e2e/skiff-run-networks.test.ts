/**
 * Containers on CNI networks, for real: two containers on a user network (busybox httpd and a wget
 * by container name), a port published on 127.0.0.1 reached from the host, --network none and host,
 * the default network, a host port already taken, and after `rm -f` nothing left: no namespace,
 * veth, lease, CNI cache entry or iptables rule. Only loopback and the test's own namespaces are
 * contacted.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
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
    // host-local's lease file holds the container id it was given to.
    for (const net of readdirSync(ipam))
      for (const f of readdirSync(path.join(ipam, net)).filter((f) => /^\d/.test(f)))
        if (readFileSync(path.join(ipam, net, f), 'utf8').includes(id)) found.push(`lease ${net}/${f}`);
  const rules = execFileSync('iptables-save', [], { encoding: 'utf8' });
  found.push(...rules.split('\n').filter((l) => l.includes(id.slice(0, 12)) || l.includes(id)));
  return found;
}

/** The veths on the host bridge of network `name` of the store (other tests' veths are not counted). */
function bridgePorts(e: EngineEnv, name: string): number {
  const conflist = JSON.parse(readFileSync(path.join(e.root, 'networks', `${name}.conflist`), 'utf8')) as {
    plugins: { bridge: string }[];
  };
  const out = execFileSync('ip', ['-o', 'link', 'show', 'master', conflist.plugins[0]!.bridge], {
    encoding: 'utf8',
  });
  return out.split('\n').filter(Boolean).length;
}

test('two containers on a user network: one reaches the other by name; a published port reaches it from the host', async (t) => {
  const e = await engineEnv(t);
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
  assert.equal(bridgePorts(e, 'appnet'), 1);
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
  assert.equal(bridgePorts(e, 'appnet'), 0);
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
  // The host's namespace itself; its interfaces as the host lists them before and after (tests running
  // beside this one add and remove bridges meanwhile: those may or may not be seen).
  const before = readdirSync('/sys/class/net');
  const [ns, ...seen] = ok(
    e.skiff([
      'run',
      '--rm',
      '--network',
      'host',
      'busybox',
      'sh',
      '-c',
      'readlink /proc/self/ns/net; ls /sys/class/net',
    ]),
  )
    .split(/\s+/)
    .filter(Boolean);
  const after = readdirSync('/sys/class/net');
  assert.equal(ns, readlinkSync('/proc/self/ns/net'));
  for (const name of before.filter((n) => after.includes(n)))
    assert.ok(seen.includes(name), `${name} in ${seen}`);
  for (const name of seen) assert.ok(before.includes(name) || after.includes(name), `${name} is the host's`);
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

test('connect/disconnect on a running container; --ip and --network-alias; names resolve across the joined network', async (t) => {
  const e = await engineEnv(t);
  ok(e.skiff(['network', 'create', 'front']));
  ok(e.skiff(['network', 'create', '--subnet', '10.99.77.0/24', 'back']));
  ok(
    e.skiff([
      'run',
      '-d',
      '--name',
      'app',
      '--network',
      'front',
      '--network-alias',
      'api',
      'busybox',
      'sleep',
      '300',
    ]),
  );
  ok(
    e.skiff([
      'run',
      '-d',
      '--name',
      'db',
      '--network',
      'back',
      '--ip',
      '10.99.77.50',
      'busybox',
      'sleep',
      '300',
    ]),
  );
  assert.equal(
    ok(e.skiff(['inspect', '-f', '{{.NetworkSettings.Networks.back.IPAddress}}', 'db'])),
    '10.99.77.50\n',
  );
  // Not on the same network yet: db does not know app.
  assert.notEqual(e.skiff(['exec', 'db', 'ping', '-c', '1', '-W', '1', 'app']).status, 0);

  ok(e.skiff(['network', 'connect', '--alias', 'backend-app', 'back', 'app']));
  assert.deepEqual(
    ok(e.skiff(['exec', 'app', 'ls', '/sys/class/net']))
      .split(/\s+/)
      .filter(Boolean),
    ['eth0', 'eth1', 'lo'],
  );
  for (const name of ['app', 'backend-app']) {
    const ping = e.skiff(['exec', 'db', 'ping', '-c', '1', '-W', '2', name]);
    assert.equal(ping.status, 0, `${name}: ${ping.stdout}${ping.stderr}`);
  }
  assert.equal(e.skiff(['exec', 'app', 'ping', '-c', '1', '-W', '2', 'db']).status, 0);
  const refused = e.skiff(['network', 'connect', 'back', 'app']);
  assert.match(refused.stderr, /already exists in network back/);
  const networks = JSON.parse(
    ok(e.skiff(['inspect', '-f', '{{json .NetworkSettings.Networks}}', 'app'])),
  ) as Record<string, { Aliases: string[] | null; IPAddress: string }>;
  assert.deepEqual(Object.keys(networks).sort(), ['back', 'front']);
  assert.deepEqual(networks.front!.Aliases, ['api']);
  assert.match(networks.back!.IPAddress, /^10\.99\.77\.\d+$/);

  ok(e.skiff(['network', 'disconnect', 'back', 'app']));
  assert.deepEqual(
    ok(e.skiff(['exec', 'app', 'ls', '/sys/class/net']))
      .split(/\s+/)
      .filter(Boolean),
    ['eth0', 'lo'],
  );
  assert.doesNotMatch(ok(e.skiff(['exec', 'db', 'cat', '/etc/hosts'])), /\bapp\b/);
  assert.match(e.skiff(['network', 'disconnect', 'back', 'app']).stderr, /is not connected to network back/);
  // The connection outlives a restart only if it was kept: after disconnect it is not back.
  ok(e.skiff(['restart', '-t', '0', 'app']));
  assert.deepEqual(
    ok(e.skiff(['exec', 'app', 'ls', '/sys/class/net']))
      .split(/\s+/)
      .filter(Boolean),
    ['eth0', 'lo'],
  );
  // docker's network events: the network is the actor, the container an attribute.
  const events = ok(
    e.skiff([
      'events',
      '--since',
      '0',
      '--until',
      '0s',
      '--filter',
      'type=network',
      '--filter',
      'network=back',
      '--format',
      '{{.Action}} {{.Actor.Attributes.name}}',
    ]),
  );
  assert.deepEqual(events.split('\n').filter(Boolean), [
    'create back',
    'connect back',
    'connect back',
    'disconnect back',
  ]);
  const ip = e.skiff(['run', '--rm', '--network', 'none', '--ip', '10.1.1.1', 'busybox', 'true']);
  assert.equal(ip.status, 125);
  assert.match(ip.stderr, /supported only for user-defined networks/);
});

test("--network container:X shares X's namespace, hosts and resolv.conf", async (t) => {
  const e = await engineEnv(t);
  ok(e.skiff(['network', 'create', 'sharenet']));
  ok(
    e.skiff([
      'run',
      '-d',
      '--name',
      'base',
      '--network',
      'sharenet',
      'busybox',
      'httpd',
      '-f',
      '-p',
      '8080',
      '-h',
      '/etc',
    ]),
  );
  const baseIp = ok(
    e.skiff(['inspect', '-f', '{{.NetworkSettings.Networks.sharenet.IPAddress}}', 'base']),
  ).trim();
  const out = ok(
    e.skiff([
      'run',
      '--rm',
      '--network',
      'container:base',
      'busybox',
      'sh',
      '-c',
      'ip -o -4 addr show eth0; wget -qO- http://127.0.0.1:8080/hostname; cat /etc/hosts',
    ]),
  );
  assert.match(out, new RegExp(`inet ${baseIp.replace(/\./g, '\\.')}/24`));
  const baseHostname = ok(e.skiff(['inspect', '-f', '{{.Config.Hostname}}', 'base'])).trim();
  assert.match(out, new RegExp(`^${baseHostname}$`, 'm'), "base's server answered on the shared loopback");
  assert.match(out, new RegExp(`${baseIp.replace(/\./g, '\\.')}\\t${baseHostname}`), "base's /etc/hosts");
  ok(e.skiff(['stop', '-t', '0', 'base']));
  const r = e.skiff(['run', '--rm', '--network', 'container:base', 'busybox', 'true']);
  assert.equal(r.status, 125);
  assert.match(r.stderr, /cannot join network namespace of a non running container: base/);
  const missing = e.skiff(['run', '--rm', '--network', 'container:nosuch', 'busybox', 'true']);
  assert.match(missing.stderr, /No such container: nosuch/);
});

test('a container whose monitor and process were killed leaves no network trace once skiff sees it', async (t) => {
  const e = await engineEnv(t);
  ok(e.skiff(['network', 'create', 'crashnet']));
  const id = ok(
    e.skiff(['run', '-d', '--network', 'crashnet', '-p', '127.0.0.1::80', 'busybox', 'sleep', '300']),
  ).trim();
  assert.notDeepEqual(traces(e, id), []);
  const monitor = Number(readFileSync(path.join(e.runroot, 'shims', id, 'monitor.pid'), 'utf8'));
  const pid = Number(ok(e.skiff(['inspect', '-f', '{{.State.Pid}}', id])).trim());
  process.kill(monitor, 'SIGKILL');
  process.kill(pid, 'SIGKILL');
  // The next command finds it exited and cleans up after it.
  for (let i = 0; i < 50 && ok(e.skiff(['inspect', '-f', '{{.State.Status}}', id])).trim() !== 'exited'; i++)
    await new Promise((r) => setTimeout(r, 100));
  assert.equal(ok(e.skiff(['inspect', '-f', '{{.State.Status}}', id])).trim(), 'exited');
  assert.deepEqual(traces(e, id), []);
  ok(e.skiff(['rm', id]));
});

test('-P publishes the exposed ports on free host ports, `port` lists them; an internal network has no way out', async (t) => {
  const e = await engineEnv(t);
  ok(e.skiff(['network', 'create', 'pubnet']));
  ok(
    e.skiff([
      'run',
      '-d',
      '--name',
      'pub',
      '--network',
      'pubnet',
      '--expose',
      '80',
      '--expose',
      '53/udp',
      '-P',
      'busybox',
      'httpd',
      '-f',
      '-p',
      '80',
      '-h',
      '/etc',
    ]),
  );
  const lines = ok(e.skiff(['port', 'pub']))
    .split('\n')
    .filter(Boolean);
  assert.equal(lines.length, 2, lines.join('\n'));
  assert.match(lines[0]!, /^53\/udp -> 0\.0\.0\.0:\d+$/);
  const http = /^80\/tcp -> 0\.0\.0\.0:(\d+)$/.exec(lines[1]!);
  assert.ok(http, lines[1]);
  assert.equal(
    await hostGet(Number(http[1]), '/hostname'),
    ok(e.skiff(['inspect', '-f', '{{.Config.Hostname}}', 'pub'])),
  );
  assert.match(e.skiff(['port', 'pub', '443']).stderr, /No public port '443\/tcp' published for pub/);

  // --ip-range: addresses come from the sub-range only.
  ok(e.skiff(['network', 'create', '--subnet', '10.99.88.0/24', '--ip-range', '10.99.88.128/25', 'ranged']));
  const ranged = ok(
    e.skiff(['run', '--rm', '--network', 'ranged', 'busybox', 'ip', '-o', '-4', 'addr', 'show', 'eth0']),
  );
  const host = Number(/inet 10\.99\.88\.(\d+)\/24/.exec(ranged)?.[1]);
  assert.ok(host >= 128 && host < 255, ranged);
  ok(e.skiff(['network', 'create', '--internal', 'closed']));
  const routes = ok(e.skiff(['run', '--rm', '--network', 'closed', 'busybox', 'ip', 'route']));
  assert.doesNotMatch(routes, /^default/m);
  assert.match(routes, /10\.89\.\d+\.0\/24 dev eth0/);
  assert.match(
    ok(e.skiff(['run', '--rm', '--network', 'pubnet', 'busybox', 'ip', 'route'])),
    /^default via 10\.89\.\d+\.1 dev eth0/m,
  );
});

test("containers started at the same time on one network all end up in each other's /etc/hosts", async (t) => {
  const e = await engineEnv(t);
  ok(e.skiff(['network', 'create', 'busy']));
  const names = ['n1', 'n2', 'n3', 'n4'];
  await Promise.all(
    names.map(
      (name) =>
        new Promise<void>((resolve, reject) => {
          const child = e.spawnSkiff([
            'run',
            '-d',
            '--name',
            name,
            '--network',
            'busy',
            'busybox',
            'sleep',
            '300',
          ]);
          child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${name}: ${code}`))));
        }),
    ),
  );
  for (const name of names) {
    const hosts = ok(e.skiff(['exec', name, 'cat', '/etc/hosts']));
    for (const other of names.filter((n) => n !== name))
      assert.match(hosts, new RegExp(`\\t${other} `), `${name}: ${hosts}`);
  }
});
