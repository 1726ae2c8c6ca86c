import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SkiffError } from '../../../../src/common/index.ts';
import { digestOf, MediaType, parseConfig, parseManifest } from '../../../../src/image/index.ts';

const d = (s: string) => digestOf(s);
const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const MANIFEST = {
  schemaVersion: 2,
  mediaType: MediaType.ociManifest,
  config: { mediaType: MediaType.ociConfig, digest: d('config'), size: 10 },
  layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: d('layer'), size: 20 }],
};

const invalid =
  (pattern: RegExp, kind = 'InvalidArgument') =>
  (err: unknown) =>
    err instanceof SkiffError && err.kind === kind && pattern.test(err.message);

test('OCI and Docker schema 2 manifests parse; the media type may come from the descriptor', () => {
  const oci = parseManifest(json(MANIFEST), d('m'));
  assert.equal(oci.kind, 'manifest');
  const { mediaType: _, ...bare } = MANIFEST;
  const docker = {
    ...bare,
    mediaType: MediaType.dockerManifest,
    config: { ...MANIFEST.config, mediaType: MediaType.dockerConfig },
    layers: [{ ...MANIFEST.layers[0], mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip' }],
  };
  assert.equal(parseManifest(json(docker), d('m')).kind, 'manifest');
  const untyped = parseManifest(json(bare), d('m'), MediaType.ociManifest);
  assert.ok(untyped.kind === 'manifest' && untyped.manifest.mediaType === MediaType.ociManifest);
});

test('indexes and manifest lists parse', () => {
  const index = {
    schemaVersion: 2,
    mediaType: MediaType.dockerManifestList,
    manifests: [
      {
        mediaType: MediaType.dockerManifest,
        digest: d('x'),
        size: 3,
        platform: { os: 'linux', architecture: 'amd64' },
      },
    ],
  };
  const parsed = parseManifest(json(index), d('i'));
  assert.ok(parsed.kind === 'index' && parsed.index.manifests[0]!.platform?.architecture === 'amd64');
});

test('bad manifests are refused naming the blob and the field', () => {
  const m = d('m');
  assert.throws(() => parseManifest(Buffer.from('{'), m), invalid(/^manifest sha256:\w+: invalid JSON/));
  assert.throws(
    () => parseManifest(json({ ...MANIFEST, schemaVersion: 3 }), m),
    invalid(/schemaVersion: must be 2/),
  );
  assert.throws(
    () => parseManifest(json({ schemaVersion: 1, name: 'x' }), m),
    invalid(/schema 1 .* not supported/, 'NotImplemented'),
  );
  assert.throws(
    () => parseManifest(json({ ...MANIFEST, layers: [{ ...MANIFEST.layers[0], digest: 'sha256:nope' }] }), m),
    invalid(/layers\[0\]\.digest: .*invalid checksum digest/),
  );
  assert.throws(
    () => parseManifest(json({ ...MANIFEST, layers: [{ ...MANIFEST.layers[0], size: -1 }] }), m),
    invalid(/layers\[0\]\.size: must be a non-negative integer/),
  );
  assert.throws(
    () =>
      parseManifest(
        json({ ...MANIFEST, layers: [{ ...MANIFEST.layers[0], mediaType: 'application/x-rar' }] }),
        m,
      ),
    invalid(/layers\[0\]\.mediaType: unsupported layer media type application\/x-rar/),
  );
  assert.throws(
    () => parseManifest(json({ ...MANIFEST, config: { ...MANIFEST.config, mediaType: 'text/plain' } }), m),
    invalid(/config\.mediaType: unsupported config media type/),
  );
  assert.throws(
    () => parseManifest(json(MANIFEST), m, MediaType.ociIndex),
    invalid(/referenced as application\/vnd\.oci\.image\.index/),
  );
  assert.throws(
    () => parseManifest(json({ ...MANIFEST, mediaType: 'text/plain' }), m),
    invalid(/unsupported media type text\/plain/),
  );
});

test('configs need os, architecture and rootfs.diff_ids', () => {
  const c = d('c');
  const good = { os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: [d('l')] } };
  assert.equal(parseConfig(json(good), c).rootfs.diff_ids.length, 1);
  assert.throws(
    () => parseConfig(json({ ...good, os: undefined }), c),
    invalid(/^image config sha256:\w+: os: must be a non-empty string/),
  );
  assert.throws(
    () => parseConfig(json({ ...good, rootfs: { type: 'x', diff_ids: [] } }), c),
    invalid(/rootfs\.type: must be "layers"/),
  );
  assert.throws(
    () => parseConfig(json({ ...good, rootfs: { type: 'layers', diff_ids: ['md5:x'] } }), c),
    invalid(/rootfs\.diff_ids\[0\]: /),
  );
});
