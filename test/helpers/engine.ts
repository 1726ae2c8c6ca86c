/**
 * The `skiff` CLI against its own temporary $SKIFF_ROOT / $SKIFF_RUNROOT, with a busybox image
 * (Debian's busybox-static plus the probe) imported into it — what the engine's e2e tests share.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ImageStore, importRootfs } from '../../src/image/index.ts';
import { makeRootfs, REPO_ROOT } from './rootfs.ts';

export const SKIFF = path.join(REPO_ROOT, 'bin', 'skiff');
export const BUSYBOX_IMAGE = 'busybox:latest';

export interface Result {
  status: number;
  stdout: string;
  stderr: string;
}

export interface EngineEnv {
  root: string;
  runroot: string;
  env: NodeJS.ProcessEnv;
  skiff(args: string[], options?: { input?: string; timeoutMs?: number }): Result;
  spawnSkiff(args: string[]): ChildProcess;
}

/** `bin/skiff ARGS` against the engine roots `root` and `root`/run. */
export function skiffWithRoot(
  root: string,
  args: string[],
  options: { input?: string; timeoutMs?: number } = {},
): Result {
  const r = spawnSync(SKIFF, args, {
    encoding: 'utf8',
    input: options.input ?? '',
    timeout: options.timeoutMs ?? 60_000,
    env: { ...process.env, SKIFF_ROOT: root, SKIFF_RUNROOT: path.join(root, 'run') },
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** An empty temporary engine root, removed after the test. */
export function tempEngineRoot(t: { after: (fn: () => void) => void }, prefix = 'skiff-cli-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  t.after(() => {
    removeBridges(dir);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** A fresh engine root with the busybox image; everything is removed after the test (file). */
export async function engineEnv(t: { after: (fn: () => void) => void }): Promise<EngineEnv> {
  const root = mkdtempSync(path.join(tmpdir(), 'skiff-engine-'));
  const runroot = path.join(root, 'run');
  const env = { ...process.env, SKIFF_ROOT: root, SKIFF_RUNROOT: runroot };
  const skiff = (args: string[], options: { input?: string; timeoutMs?: number } = {}): Result =>
    skiffWithRoot(root, args, options);
  t.after(() => {
    const ids = skiff(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean);
    if (ids.length > 0) skiff(['rm', '-f', '-v', ...ids]);
    removeBridges(root);
    rmSync(root, { recursive: true, force: true });
  });
  await importBusybox(root);
  return {
    root,
    runroot,
    env,
    skiff,
    spawnSkiff: (args) => spawn(SKIFF, args, { env, stdio: ['pipe', 'pipe', 'pipe'] }),
  };
}

/**
 * busybox-static with its applets, /probe, /etc/passwd and /etc/group, as `busybox:latest`; `changes`
 * (`docker import --change` instructions) go into its config after `CMD ["sh"]`.
 */
export async function importBusybox(
  root: string,
  reference = BUSYBOX_IMAGE,
  changes: readonly string[] = [],
): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-busybox-'));
  try {
    makeRootfs(dir);
    const tar = spawn('tar', ['--numeric-owner', '-C', dir, '-cf', '-', '.'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const store = await ImageStore.open({ root });
    try {
      await importRootfs(store, tar.stdout, { reference, changes: ['CMD ["sh"]', ...changes] });
    } finally {
      store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface TerminalSession {
  /** Waits (up to 5 s) until the terminal has shown `text`; the output so far. */
  waitFor(text: string): Promise<string>;
  type(text: string): void;
  /** Resolves with the exit status of the command once the terminal closes. */
  exited: Promise<number | null>;
}

/** Runs `skiff ARGS` on a pseudo-terminal (util-linux `script`), as a person at a terminal would. */
export function terminalSession(e: EngineEnv, args: string[]): TerminalSession {
  const child = spawn('script', ['-qfec', [SKIFF, ...args].join(' '), '/dev/null'], {
    env: e.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return {
    async waitFor(text) {
      for (let i = 0; i < 100 && !output.includes(text); i++) await new Promise((r) => setTimeout(r, 50));
      return output;
    },
    type: (text) => child.stdin.write(text),
    exited: new Promise((resolve) => child.once('exit', resolve)),
  };
}

/** The host bridges of the networks under `root` (the default network's included), deleted. */
export function removeBridges(root: string): void {
  const dir = path.join(root, 'networks');
  if (!existsSync(dir)) return;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.conflist'))) {
    const bridge = (
      JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { plugins?: { bridge?: string }[] }
    ).plugins?.[0]?.bridge;
    if (bridge) spawnSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
  }
}
