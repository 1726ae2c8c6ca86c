import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { dockerSeccompToOci } from '../../../src/engine/index.ts';
import type { Seccomp } from '../../../src/oci/index.ts';
import type { Runtime } from '../../../src/runtime/index.ts';
import { makeBundle, makeRuntime, runContainer } from '../../helpers/bundle.ts';
import { REPO_ROOT } from '../../helpers/rootfs.ts';
import { startSeccompAgent } from '../../helpers/seccomp-agent.ts';

// The shim's cache of compiled seccomp filters (native/shim/seccomp-cache.c) in the state root.
const DOCKER_PROFILE = path.join(REPO_ROOT, 'specs', 'seccomp-default.json');
const NR_GETPGID = 121;

/** A runtime with its own state root, so its own cache; `files()` lists the cache. */
function cachedRuntime(t: TestContext): { runtime: Runtime; cache: string; files: () => string[] } {
  const { runtime, root, cleanup } = makeRuntime();
  t.after(cleanup);
  const cache = path.join(root, '.seccomp-cache');
  return { runtime, cache, files: () => (existsSync(cache) ? readdirSync(cache).sort() : []) };
}

/** Runs a container with `filter` (exit 0 expected); its output and the cache files it added. */
async function withFilter(
  runtime: Runtime,
  files: () => string[],
  filter: Seccomp,
  script: string,
): Promise<{ out: string; added: string[] }> {
  const before = new Set(files());
  const bundle = makeBundle(['/bin/sh', '-c', script], (spec) => {
    spec.linux!.seccomp = structuredClone(filter);
  });
  try {
    const result = await runContainer(runtime, bundle);
    assert.equal(result.status, 0, `container failed: ${result.stderr}`);
    return { out: result.stdout, added: files().filter((f) => !before.has(f)) };
  } finally {
    bundle.cleanup();
  }
}

const keyctlErrno = (errnoRet: number): Seccomp => ({
  defaultAction: 'SCMP_ACT_ALLOW',
  architectures: ['SCMP_ARCH_X86_64'],
  syscalls: [{ names: ['keyctl'], action: 'SCMP_ACT_ERRNO', errnoRet }],
});

/** The cache file's parts (seccomp-cache.c): magic, key length, key, notify, 0, count, program, FNV-1a. */
function parseEntry(bytes: Buffer) {
  const keyLen = Number(bytes.readBigUInt64LE(8));
  const notifyAt = 16 + keyLen;
  return {
    head: bytes.subarray(0, notifyAt + 16),
    notify: bytes.readUInt32LE(notifyAt),
    program: bytes.subarray(notifyAt + 16, bytes.length - 8),
  };
}

function fnv1a(bytes: Buffer): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h;
}

function withChecksum(body: Buffer): Buffer {
  const sum = Buffer.alloc(8);
  sum.writeBigUInt64LE(fnv1a(body));
  return Buffer.concat([body, sum]);
}

test("Docker's profile: the second container loads the cached program, and the filter is in force", async (t) => {
  if (process.arch !== 'x64') return t.skip('Docker profile rules are checked on x86_64');
  const bundle = makeBundle();
  const profile = dockerSeccompToOci(JSON.parse(readFileSync(DOCKER_PROFILE, 'utf8')), {
    bounding: bundle.spec.process!.capabilities!.bounding!,
  });
  bundle.cleanup();
  const { runtime, cache, files } = cachedRuntime(t);
  const script = '/probe syscall unshare; /probe syscall keyctl; ls / >/dev/null && echo ls-ok';
  const first = await withFilter(runtime, files, profile, script);
  assert.equal(first.out, 'EPERM\nEPERM\nls-ok\n');
  assert.equal(statSync(cache).mode & 0o777, 0o700);
  assert.equal(first.added.length, 1);
  assert.match(first.added[0]!, /^[0-9a-f]{16}$/);
  const file = path.join(cache, first.added[0]!);
  const written = statSync(file, { bigint: true });
  assert.equal(Number(written.mode) & 0o777, 0o600);

  const second = await withFilter(runtime, files, profile, script);
  assert.equal(second.out, 'EPERM\nEPERM\nls-ok\n');
  assert.deepEqual(files(), first.added);
  const after = statSync(file, { bigint: true });
  assert.equal(after.mtimeNs, written.mtimeNs, 'a hit does not rewrite the file');
  assert.equal(after.ino, written.ino);
  // The state root lists containers only: the cache is no container.
  assert.deepEqual(await runtime.store.ids(), []);
});

test('the init loads the program the cache holds for its filter', async (t) => {
  const { runtime, cache, files } = cachedRuntime(t);
  const run = (errnoRet: number) =>
    withFilter(runtime, files, keyctlErrno(errnoRet), '/probe syscall keyctl');
  // Two filters whose programs differ in one errno; the entry of the first gets the second's program.
  const eperm = await run(1);
  const enomsg = await run(42);
  assert.deepEqual([eperm.out, enomsg.out], ['EPERM\n', 'ENOMSG\n']);
  assert.equal(eperm.added.length, 1);
  assert.equal(enomsg.added.length, 1);
  const file = path.join(cache, eperm.added[0]!);
  const entry = parseEntry(readFileSync(file));
  const other = parseEntry(readFileSync(path.join(cache, enomsg.added[0]!)));
  writeFileSync(file, withChecksum(Buffer.concat([entry.head, other.program])));
  assert.equal((await run(1)).out, 'ENOMSG\n', 'the cached program, not a new compile');
});

test('a corrupt, truncated or foreign cache file is ignored and replaced; the container gets its filter', async (t) => {
  const { runtime, cache, files } = cachedRuntime(t);
  const script = '/probe syscall keyctl; /probe caps | grep Seccomp';
  const first = await withFilter(runtime, files, keyctlErrno(1), script);
  assert.match(first.out, /^EPERM\nSeccomp:\s+2\n/);
  const file = path.join(cache, first.added[0]!);
  const good = readFileSync(file);
  const { head, program } = parseEntry(good);
  const flipped = Buffer.from(good);
  flipped[head.length + 3]! ^= 0xff; // in the program: the checksum no longer matches
  const badCount = Buffer.from(good.subarray(0, good.length - 8));
  badCount.writeBigUInt64LE(BigInt(program.length / 8 - 1), head.length - 8);
  const otherKey = Buffer.from(good.subarray(0, good.length - 8));
  otherKey[20]! ^= 0x01; // in the key: a collision of names is a miss
  const corruptions: [string, Buffer][] = [
    ['a flipped byte', flipped],
    ['half of it', good.subarray(0, good.length >> 1)],
    ['nothing', Buffer.alloc(0)],
    ['garbage', Buffer.from('not a cache file\n')],
    ['a wrong count with a valid checksum', withChecksum(badCount)],
    ['another key with a valid checksum', withChecksum(otherKey)],
  ];
  for (const [what, bytes] of corruptions) {
    writeFileSync(file, bytes);
    const { out } = await withFilter(runtime, files, keyctlErrno(1), script);
    assert.match(out, /^EPERM\nSeccomp:\s+2\n/, what);
    assert.deepEqual(readFileSync(file), good, `${what}: rewritten`);
  }
  assert.deepEqual(files(), first.added, 'no temporary file is left');
});

test('SCMP_ACT_NOTIFY from the cache: the listener fd still reaches the agent', async (t) => {
  if (process.arch !== 'x64') return t.skip('syscall numbers are x86_64 ones');
  const filter: Seccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64'],
    syscalls: [{ names: ['getpgid'], action: 'SCMP_ACT_NOTIFY' }],
  };
  const { runtime, cache, files } = cachedRuntime(t);
  const added: string[] = [];
  for (const run of ['compiled', 'cached']) {
    const agent = await startSeccompAgent(t, 42);
    const { out, added: now } = await withFilter(
      runtime,
      files,
      { ...filter, listenerPath: agent.socket },
      `/probe syscall-nr ${NR_GETPGID} 5000`,
    );
    assert.equal(out, 'ENOMSG\n', `${run}: the agent answered the notified call`);
    const [message, notified] = (await agent.output).trim().split('\n');
    assert.deepEqual(JSON.parse(message!).fds, ['seccompFd'], run);
    assert.match(notified!, new RegExp(`^notified nr=${NR_GETPGID} `), run);
    added.push(...now);
  }
  // listenerPath is no part of the filter's records: the second run found the first one's program.
  assert.equal(added.length, 1);
  assert.deepEqual(files(), added);
  assert.equal(parseEntry(readFileSync(path.join(cache, added[0]!))).notify, 1);
});
