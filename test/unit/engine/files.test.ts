// The per-container /etc/hostname, /etc/hosts and /etc/resolv.conf as Docker writes them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { test } from 'node:test';
import {
  containerFiles,
  hostnameFile,
  hostResolvConfPath,
  hostsFile,
  resolvConfFile,
  withDnsOverrides,
} from '../../../src/engine/index.ts';

const LOOPBACK = `127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::0\tip6-localnet
ff00::0\tip6-mcastprefix
ff02::1\tip6-allnodes
ff02::2\tip6-allrouters
`;

test('hostname', () => {
  assert.equal(hostnameFile('0123456789ab'), '0123456789ab\n');
});

test('hosts: loopback lines only on --network none; an address line when the container has one', () => {
  assert.equal(hostsFile({ hostname: 'abc', networkMode: 'none' }), LOOPBACK);
  assert.equal(
    hostsFile({ hostname: 'abc', domainname: 'example.org', networkMode: 'bridge', ip: '172.17.0.2' }),
    `${LOOPBACK}172.17.0.2\tabc.example.org\tabc\n`,
  );
  assert.equal(
    hostsFile({ hostname: 'abc', networkMode: 'none', extraHosts: ['db:10.0.0.5', 'cache=10.0.0.6'] }),
    `${LOOPBACK}10.0.0.5\tdb\n10.0.0.6\tcache\n`,
  );
});

test("hosts on the host's network: a copy of the host's", () => {
  const host = '127.0.0.1 localhost\n10.1.1.1 build-host\n';
  assert.equal(hostsFile({ hostname: 'h', networkMode: 'host', hostHosts: host }), host);
  assert.equal(
    hostsFile({
      hostname: 'h',
      networkMode: 'host',
      hostHosts: '127.0.0.1 localhost',
      extraHosts: ['a:1.2.3.4'],
    }),
    '127.0.0.1 localhost\n1.2.3.4\ta\n',
  );
});

test("resolv.conf: the host's with localhost and IPv6 nameservers removed; Google's when none is left", () => {
  const host =
    'search corp.example\nnameserver 127.0.0.1\nnameserver 10.0.0.2\nnameserver ::1\nnameserver 2001:db8::1\noptions ndots:2\n';
  assert.equal(resolvConfFile(host, 'none'), 'search corp.example\nnameserver 10.0.0.2\noptions ndots:2\n');
  assert.equal(
    resolvConfFile('nameserver 127.0.0.11\nsearch x\n', 'none'),
    'search x\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n',
  );
  assert.equal(resolvConfFile('', 'none'), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  assert.equal(resolvConfFile(host, 'host'), host);
  assert.equal(hostResolvConfPath('nameserver 127.0.0.53\n'), '/run/systemd/resolve/resolv.conf');
  assert.equal(hostResolvConfPath('nameserver 10.0.0.2\n'), '/etc/resolv.conf');
});

test('containerFiles: the three files from the config and the host files', async () => {
  const id = 'f'.repeat(64);
  const none = await containerFiles({}, { NetworkMode: 'none' }, id);
  assert.equal(none.hostname, 'ffffffffffff\n');
  assert.equal(none.hosts, LOOPBACK);
  assert.equal(none.resolvConf, resolvConfFile(readFileSync('/etc/resolv.conf', 'utf8'), 'none'));
  const host = await containerFiles({}, { NetworkMode: 'host' }, id);
  assert.equal(host.hostname, `${hostname()}\n`);
  assert.equal(host.hosts, readFileSync('/etc/hosts', 'utf8'));
  const named = await containerFiles({ Hostname: 'web' }, {});
  assert.equal(named.hostname, 'web\n');
  await assert.rejects(containerFiles({}, {}), /Config.Hostname is empty and no container id was given/);
});

test('--dns, --dns-search, --dns-option replace the host resolv.conf parts', () => {
  const host = 'domain corp\nsearch corp.example\nnameserver 10.0.0.2\noptions ndots:1\n';
  assert.equal(withDnsOverrides(host, {}), host);
  assert.equal(
    withDnsOverrides(host, { Dns: ['10.9.9.9'], DnsSearch: ['a.test', 'b.test'], DnsOptions: ['ndots:3'] }),
    'nameserver 10.9.9.9\nsearch a.test b.test\noptions ndots:3\n',
  );
  assert.equal(withDnsOverrides(host, { DnsSearch: ['.'] }), 'nameserver 10.0.0.2\noptions ndots:1\n');
  assert.equal(
    withDnsOverrides(host, { Dns: ['1.1.1.1'] }),
    'domain corp\nsearch corp.example\noptions ndots:1\nnameserver 1.1.1.1\n',
  );
});

test('hosts on a user network list the peers after the container itself', () => {
  assert.equal(
    hostsFile({
      hostname: 'web',
      networkMode: 'bridge',
      ip: '10.89.1.2',
      peers: [{ ip: '10.89.1.3', names: ['db', 'abc123'] }],
    })
      .split('\n')
      .slice(-3)
      .join('\n'),
    '10.89.1.2\tweb\n10.89.1.3\tdb abc123\n',
  );
});
