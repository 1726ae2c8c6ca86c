import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type Descriptor,
  digestOf,
  hostPlatform,
  platformMatches,
  selectManifest,
} from '../../../../src/image/index.ts';

const entry = (architecture: string, variant?: string): Descriptor => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: digestOf(`${architecture}${variant ?? ''}`),
  size: 1,
  platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) },
});

test("Node's architectures map to OCI's", () => {
  assert.deepEqual(hostPlatform('x64'), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(hostPlatform('arm64'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  assert.deepEqual(hostPlatform('ia32'), { os: 'linux', architecture: '386' });
  assert.equal(hostPlatform().os, 'linux');
});

test('arm64 without a variant is arm64/v8; other variants differ', () => {
  assert.ok(
    platformMatches(
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
      { os: 'linux', architecture: 'arm64' },
    ),
  );
  assert.ok(
    !platformMatches(
      { os: 'linux', architecture: 'arm', variant: 'v7' },
      { os: 'linux', architecture: 'arm', variant: 'v6' },
    ),
  );
  assert.ok(
    !platformMatches({ os: 'linux', architecture: 'amd64' }, { os: 'windows', architecture: 'amd64' }),
  );
});

test('the entry for the platform is selected from an index', () => {
  const entries = [entry('arm', 'v7'), entry('arm64', 'v8'), entry('amd64')];
  assert.equal(selectManifest(entries, hostPlatform('x64'), 'index').digest, entries[2]!.digest);
  assert.equal(selectManifest(entries, hostPlatform('arm64'), 'index').digest, entries[1]!.digest);
});

test('no matching platform is NotFound, listing what the index offers', () => {
  assert.throws(
    () => selectManifest([entry('arm', 'v7'), entry('s390x')], hostPlatform('x64'), 'image index sha256:x'),
    (err: Error & { kind?: string }) =>
      err.kind === 'NotFound' &&
      err.message ===
        'image index sha256:x: no manifest for platform linux/amd64 (the index offers: linux/arm/v7, linux/s390x)',
  );
});
