/**
 * The `skiff` CLI against its own temporary $SKIFF_ROOT / $SKIFF_RUNROOT, with a busybox image
 * (Debian's busybox-static plus the probe) imported into it — what the engine's e2e tests share.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ImageStore, importRootfs } from '../../src/image/index.ts';
import { cgroupDirsNamed, eventually, hostMountsMentioning, processesMentioning } from './host.ts';
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
  /** skiff that must succeed: its stdout, trimmed. */
  ok(args: string[]): string;
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

/**
 * A fresh engine root with the busybox image; everything is removed after the test (file): the
 * containers first, then — once their monitors' cleanup commands have ended, so that nothing writes
 * into the root while it goes — the networks' bridges and the root.
 */
export async function engineEnv(t: { after: (fn: () => void | Promise<void>) => void }): Promise<EngineEnv> {
  const root = mkdtempSync(path.join(tmpdir(), 'skiff-engine-'));
  const runroot = path.join(root, 'run');
  const env = { ...process.env, SKIFF_ROOT: root, SKIFF_RUNROOT: runroot };
  const skiff = (args: string[], options: { input?: string; timeoutMs?: number } = {}): Result =>
    skiffWithRoot(root, args, options);
  t.after(async () => {
    const ids = skiff(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean);
    if (ids.length > 0) skiff(['rm', '-f', '-v', ...ids]);
    await eventually(() => processesMentioning(runroot).length === 0, 10_000);
    removeBridges(root);
    rmSync(root, { recursive: true, force: true });
  });
  await importBusybox(root);
  const ok = (args: string[]): string => {
    const r = skiff(args);
    assert.equal(r.status, 0, `skiff ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  return {
    root,
    runroot,
    env,
    skiff,
    ok,
    spawnSkiff: (args) => spawn(SKIFF, args, { env, stdio: ['pipe', 'pipe', 'pipe'] }),
  };
}

/** What an engine root still holds: mounts, cgroups of its containers, processes (monitors, exit commands). */
export function storeLeftovers(e: EngineEnv, ids: readonly string[]): string[] {
  const found = hostMountsMentioning(e.root).map((l) => `mount ${l.split(' ')[4]}`);
  for (const id of ids) for (const dir of cgroupDirsNamed(id)) found.push(`cgroup ${dir}`);
  found.push(...processesMentioning(e.root).map((p) => `process ${p}`));
  return found;
}

/** Removes every container and waits until nothing of them is left (the exit commands included). */
export async function removeAllContainers(e: EngineEnv): Promise<void> {
  const ids = e.skiff(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean);
  if (ids.length > 0) e.ok(['rm', '-f', '-v', ...ids]);
  await eventually(() => storeLeftovers(e, ids).length === 0, 10_000);
  assert.deepEqual(storeLeftovers(e, ids), []);
}

/**
 * engineEnv, and once the store is gone nothing of its containers may remain: no mount under the
 * root, no cgroup of a container, no monitor or cleanup process.
 */
export async function leakCheckedEngineEnv(t: {
  after: (fn: () => void | Promise<void>) => void;
}): Promise<EngineEnv> {
  let env: EngineEnv | undefined;
  let ids: string[] = [];
  // Hooks run in the order they were added: the ids are read before engineEnv removes the store.
  t.after(() => {
    if (env) ids = env.skiff(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean);
  });
  env = await engineEnv(t);
  const e = env;
  t.after(() => assert.deepEqual(storeLeftovers(e, ids), [], 'nothing of the store is left'));
  return e;
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
  // `exec`: script runs the line with $SHELL -c, and dash (/bin/sh, or SHELL unset as in CI) would stay
  // as skiff's parent in the terminal's foreground group and die of a typed Ctrl-C itself (exit 130).
  const child = spawn('script', ['-qfec', ['exec', SKIFF, ...args].join(' '), '/dev/null'], {
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
