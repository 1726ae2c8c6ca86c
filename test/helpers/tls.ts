/**
 * Certificates for the TLS tests, made with openssl into a temporary directory: a CA, a server
 * certificate it signs for 127.0.0.1 (IP SAN), a client certificate it signs, and an unrelated CA.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TestCerts {
  readonly dir: string;
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** A CA that signed nothing here. */
  readonly otherCaCert: string;
}

function openssl(args: string[]): boolean {
  return spawnSync('openssl', args, { stdio: 'ignore' }).status === 0;
}

/** undefined when openssl cannot make them here. */
export function makeTestCerts(t: { after: (fn: () => void) => void }): TestCerts | undefined {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-certs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const f = (name: string) => path.join(dir, name);
  const selfSigned = (key: string, cert: string, cn: string) =>
    openssl([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      `/CN=${cn}`,
    ]);
  const signed = (name: string, cn: string, ext: string) => {
    writeFileSync(f(`${name}.ext`), ext);
    return (
      openssl([
        'req',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        f(`${name}.key`),
        '-out',
        f(`${name}.csr`),
        '-subj',
        `/CN=${cn}`,
      ]) &&
      openssl([
        'x509',
        '-req',
        '-in',
        f(`${name}.csr`),
        '-CA',
        f('ca.crt'),
        '-CAkey',
        f('ca.key'),
        '-CAcreateserial',
        '-out',
        f(`${name}.crt`),
        '-days',
        '2',
        '-extfile',
        f(`${name}.ext`),
      ])
    );
  };
  const ok =
    selfSigned(f('ca.key'), f('ca.crt'), 'skiff test CA') &&
    selfSigned(f('other-ca.key'), f('other-ca.crt'), 'skiff unrelated CA') &&
    signed('server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n') &&
    signed('client', 'skiff-client', 'extendedKeyUsage=clientAuth\n');
  if (!ok) return undefined;
  return {
    dir,
    caCert: f('ca.crt'),
    serverCert: f('server.crt'),
    serverKey: f('server.key'),
    clientCert: f('client.crt'),
    clientKey: f('client.key'),
    otherCaCert: f('other-ca.crt'),
  };
}
