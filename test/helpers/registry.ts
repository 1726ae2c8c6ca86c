/**
 * A real registry for the tests: Debian's docker-registry (the CNCF distribution server) on a free
 * 127.0.0.1 port with its own temporary storage, optionally behind htpasswd Basic auth, stopped and
 * removed after the test. It never touches a system registry on :5000.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TestRegistry {
  readonly port: number;
  /** `127.0.0.1:PORT` */
  readonly host: string;
  readonly dir: string;
}

/** A port nothing listens on now (the kernel's pick). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A bcrypt htpasswd line, made with python3's crypt (apache2-utils' htpasswd is not installed). */
export function htpasswdLine(user: string, password: string): string | undefined {
  const r = spawnSync(
    'python3',
    [
      '-W',
      'ignore',
      '-c',
      'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))',
      password,
    ],
    { encoding: 'utf8' },
  );
  const hash = r.stdout?.trim() ?? '';
  return r.status === 0 && /^\$2[aby]\$/.test(hash) ? `${user}:${hash}` : undefined;
}

export async function startRegistry(
  t: { after: (fn: () => void | Promise<void>) => void },
  options: { htpasswd?: string } = {},
): Promise<TestRegistry> {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-registry-'));
  const port = await freePort();
  const auth = options.htpasswd
    ? `auth:\n  htpasswd:\n    realm: skiff-test\n    path: ${path.join(dir, 'htpasswd')}\n`
    : '';
  if (options.htpasswd) writeFileSync(path.join(dir, 'htpasswd'), `${options.htpasswd}\n`);
  writeFileSync(
    path.join(dir, 'config.yml'),
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${path.join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${auth}`,
  );
  const child: ChildProcess = spawn('docker-registry', ['serve', path.join(dir, 'config.yml')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  t.after(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const host = `127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${stderr}`);
    const up = await fetch(`http://${host}/v2/`).then(
      (r) => r.status === 200 || r.status === 401,
      () => false,
    );
    if (up) return { port, host, dir };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`docker-registry did not answer on ${host}: ${stderr}`);
}
