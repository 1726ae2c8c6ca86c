// Docker's seccomp profile format into OCI linux.seccomp, as moby's setupSeccomp.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultSeccomp, dockerSeccompToOci, parseSeccompProfile } from '../../../src/engine/index.ts';

const PROFILE = {
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: 1,
  archMap: [
    { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
    { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
  ],
  syscalls: [
    { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
    { name: 'ptrace', action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4.8' } },
    { names: ['mount'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
    { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64', 'x32'] } },
    { names: ['ioperm'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, excludes: { caps: ['CAP_SYS_RAWIO'] } },
    {
      names: ['personality'],
      action: 'SCMP_ACT_ALLOW',
      args: [{ index: 0, value: 8, valueTwo: 0, op: 'SCMP_CMP_EQ' }],
      excludes: { arches: ['arm64'] },
    },
  ],
};

const names = (s: ReturnType<typeof dockerSeccompToOci>) => s.syscalls!.flatMap((c) => c.names);

test('architectures from archMap, rules filtered by arch, capability and kernel', () => {
  const amd = dockerSeccompToOci(PROFILE, { bounding: [], goArch: 'amd64', kernel: '5.10.0-28-amd64' });
  assert.deepEqual(amd.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  assert.equal(amd.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(amd.defaultErrnoRet, 1);
  assert.deepEqual(names(amd), ['read', 'write', 'ptrace', 'arch_prctl', 'ioperm', 'personality']);
  assert.deepEqual(amd.syscalls!.at(-1)!.args, [{ index: 0, value: 8, valueTwo: 0, op: 'SCMP_CMP_EQ' }]);

  const arm = dockerSeccompToOci(PROFILE, {
    bounding: ['CAP_SYS_ADMIN', 'CAP_SYS_RAWIO'],
    goArch: 'arm64',
    kernel: '4.4.0',
  });
  assert.deepEqual(arm.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  assert.deepEqual(names(arm), ['read', 'write', 'mount']);
});

test('refused: both architectures and archMap, both name and names, bad JSON', () => {
  assert.throws(
    () => dockerSeccompToOci({ ...PROFILE, architectures: ['SCMP_ARCH_X86_64'] }, { bounding: [] }),
    /both 'architectures' and 'archMap'/,
  );
  assert.throws(
    () =>
      dockerSeccompToOci(
        {
          defaultAction: 'SCMP_ACT_ALLOW',
          syscalls: [{ name: 'a', names: ['b'], action: 'SCMP_ACT_ERRNO' }],
        },
        { bounding: [] },
      ),
    /use either 'name' or 'names'/,
  );
  assert.throws(() => parseSeccompProfile('{nope'), /decoding seccomp profile failed/);
  assert.throws(() => parseSeccompProfile('{}'), /defaultAction/);
});

test("Docker's default profile: EPERM default, unshare only with CAP_SYS_ADMIN", () => {
  const plain = defaultSeccomp({ bounding: ['CAP_CHOWN'], goArch: 'amd64', kernel: '6.1.0' });
  assert.equal(plain.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(plain.architectures![0], 'SCMP_ARCH_X86_64');
  assert.ok(names(plain).includes('read'));
  assert.ok(!names(plain).includes('unshare'));
  const admin = defaultSeccomp({ bounding: ['CAP_SYS_ADMIN'], goArch: 'amd64', kernel: '6.1.0' });
  assert.ok(names(admin).includes('unshare'));
});
