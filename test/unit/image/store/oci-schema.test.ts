// The store checks manifests, indexes and configs by hand (src/image/store/manifest.ts). This test holds
// those checks against the OCI image spec's own JSON schemas (specs/oci-image-schema), compiled
// here with ajv: what the spec accepts, the parser accepts; what the parser refuses for a schema reason,
// the spec refuses too.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import AjvModule from 'ajv-draft-04';
import { digestOf, MediaType, parseConfig, parseManifest } from '../../../../src/image/index.ts';

// A CommonJS module: Node's default import is the class itself, TypeScript's view of it has `.default`.
const Ajv = AjvModule as unknown as typeof AjvModule.default;

const SCHEMAS = path.resolve(import.meta.dirname, '../../../../specs/oci-image-schema');

/** The schemas' "id"s disagree with their relative "$ref"s; keyed by file name, the refs resolve. */
function stripIds(value: unknown): unknown {
  if (value && typeof value === 'object') {
    delete (value as Record<string, unknown>).id;
    for (const child of Object.values(value)) stripIds(child);
  }
  return value;
}

function loadValidators() {
  const ajv = new Ajv({ allErrors: true, strictSchema: false, validateFormats: false });
  for (const name of readdirSync(SCHEMAS).filter((n) => n.endsWith('.json')))
    ajv.addSchema(stripIds(JSON.parse(readFileSync(path.join(SCHEMAS, name), 'utf8'))) as object, name);
  const get = (name: string) => {
    const validate = ajv.getSchema(name);
    assert.ok(validate, name);
    return (doc: unknown) => validate(doc) === true;
  };
  return {
    manifest: get('image-manifest-schema.json'),
    index: get('image-index-schema.json'),
    config: get('config-schema.json'),
  };
}

// The specs sit beside the repository (as for scripts/gen-oci-validators.mjs); without them, skip.
const skip = existsSync(SCHEMAS) ? false : `no schemas at ${SCHEMAS}`;
const schema = skip ? (undefined as never as ReturnType<typeof loadValidators>) : loadValidators();
const bytes = (v: unknown) => Buffer.from(JSON.stringify(v));
const D = digestOf('x');

const MANIFEST = {
  schemaVersion: 2,
  mediaType: MediaType.ociManifest,
  config: { mediaType: MediaType.ociConfig, digest: D, size: 10 },
  layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: D, size: 20 }],
  annotations: { 'org.opencontainers.image.title': 't' },
};
const INDEX = {
  schemaVersion: 2,
  mediaType: MediaType.ociIndex,
  manifests: [
    {
      mediaType: MediaType.ociManifest,
      digest: D,
      size: 5,
      platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
    },
  ],
};
const CONFIG = {
  created: '2026-11-23T00:00:00Z',
  architecture: 'amd64',
  os: 'linux',
  config: { Env: ['PATH=/bin'], Cmd: ['/bin/sh'], Labels: { a: 'b' } },
  rootfs: { type: 'layers', diff_ids: [D] },
  history: [{ created_by: 'test' }],
};

test('documents valid under the OCI schemas are accepted', { skip }, () => {
  assert.ok(schema.manifest(MANIFEST));
  assert.equal(parseManifest(bytes(MANIFEST), D).kind, 'manifest');
  assert.ok(schema.index(INDEX));
  assert.equal(parseManifest(bytes(INDEX), D).kind, 'index');
  assert.ok(schema.config(CONFIG));
  assert.equal(parseConfig(bytes(CONFIG), D).os, 'linux');
});

const BAD_MANIFESTS: [string, unknown][] = [
  ['schemaVersion 3', { ...MANIFEST, schemaVersion: 3 }],
  ['no config', { ...MANIFEST, config: undefined }],
  ['config without digest', { ...MANIFEST, config: { mediaType: MediaType.ociConfig, size: 1 } }],
  ['negative size', { ...MANIFEST, layers: [{ ...MANIFEST.layers[0], size: -1 }] }],
  ['size as string', { ...MANIFEST, layers: [{ ...MANIFEST.layers[0], size: '20' }] }],
  ['malformed digest', { ...MANIFEST, layers: [{ ...MANIFEST.layers[0], digest: 'sha256' }] }],
  ['malformed media type', { ...MANIFEST, layers: [{ ...MANIFEST.layers[0], mediaType: 'tar' }] }],
  ['layers not an array', { ...MANIFEST, layers: {} }],
  ['annotations not an object', { ...MANIFEST, annotations: 'x' }],
];

test('manifests the OCI schema refuses are refused by the parser', { skip }, () => {
  for (const [what, doc] of BAD_MANIFESTS) {
    assert.equal(schema.manifest(doc), false, `schema: ${what}`);
    assert.throws(() => parseManifest(bytes(doc), D), /manifest sha256:/, what);
  }
});

test('indexes and configs the OCI schema refuses are refused by the parser', { skip }, () => {
  const badIndexes: unknown[] = [
    { ...INDEX, manifests: 'x' },
    { ...INDEX, manifests: [{ ...INDEX.manifests[0], platform: { os: 'linux' } }] },
    { ...INDEX, manifests: [{ ...INDEX.manifests[0], digest: 'nope' }] },
  ];
  for (const doc of badIndexes) {
    assert.equal(schema.index(doc), false, JSON.stringify(doc));
    assert.throws(() => parseManifest(bytes(doc), D, MediaType.ociIndex), /manifest sha256:/);
  }
  const badConfigs: unknown[] = [
    { ...CONFIG, os: undefined },
    { ...CONFIG, architecture: 7 },
    { ...CONFIG, rootfs: { type: 'layers' } },
    { ...CONFIG, rootfs: { type: 'tarball', diff_ids: [] } },
    { ...CONFIG, config: 'x' },
  ];
  for (const doc of badConfigs) {
    assert.equal(schema.config(doc), false, JSON.stringify(doc));
    assert.throws(() => parseConfig(bytes(doc), D), /image config sha256:/);
  }
});

test('deliberate differences: zero layers are accepted (Docker builds FROM scratch make them)', {
  skip,
}, () => {
  const empty = { ...MANIFEST, layers: [] };
  assert.equal(schema.manifest(empty), false);
  assert.equal(parseManifest(bytes(empty), D).kind, 'manifest');
});

test('deliberate differences: diff IDs must be digests, which the config schema does not check', {
  skip,
}, () => {
  const config = { ...CONFIG, rootfs: { type: 'layers', diff_ids: ['x'] } };
  assert.equal(schema.config(config), true);
  assert.throws(() => parseConfig(bytes(config), D), /rootfs\.diff_ids\[0\]/);
});
