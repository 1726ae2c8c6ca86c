/**
 * The image tables in skiff.db (owner 'image'; see src/common/db.ts). Append new migrations at the end;
 * never edit one that has shipped.
 *
 *   images          one row per image; id = digest of its config blob
 *   image_layers    the image's layers in order: diff ID (uncompressed digest) and chain ID
 *   manifests       manifests and indexes by digest (immutable); image_id is what each resolves to, and
 *                   for an index, platform_manifest is the entry selected for this host
 *   manifest_layers the layer blobs a manifest lists (compressed digest, media type, size)
 *   tags            (name, tag) → manifest digest; mutable, a tag moves when re-pointed
 *   repo_digests    (name, manifest digest) pairs, so `name@sha256:…` resolves after the tag has moved
 *   leases          (v2) protections of blobs that a pull/load/build is writing and has not yet
 *   lease_blobs     recorded as an image (as containerd's leases); they expire at expires_at (ms)
 *   layer_sizes     (v3) the uncompressed size of a layer by diff ID, once known (unpack, import):
 *                   an image's size is that of its content, as docker reports it
 *
 * Every blob the store keeps is named by one of: manifests.digest, images.id (config),
 * manifest_layers.digest, or an unexpired lease — REFERENCED_BLOBS below; anything else is garbage.
 */
import type { Migration } from '../../common/index.ts';

export const IMAGE_MIGRATIONS: readonly Migration[] = [
  {
    description: 'images, layers, manifests, tags, repo digests',
    up: `
CREATE TABLE images (
  id TEXT PRIMARY KEY,
  config_size INTEGER NOT NULL,
  os TEXT NOT NULL,
  architecture TEXT NOT NULL,
  variant TEXT,
  created TEXT,
  added_at TEXT NOT NULL
) STRICT;
CREATE TABLE image_layers (
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  diff_id TEXT NOT NULL,
  chain_id TEXT NOT NULL,
  PRIMARY KEY (image_id, position)
) STRICT;
CREATE INDEX image_layers_chain_id ON image_layers(chain_id);
CREATE TABLE manifests (
  digest TEXT PRIMARY KEY,
  media_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  platform_manifest TEXT REFERENCES manifests(digest) ON DELETE CASCADE,
  added_at TEXT NOT NULL
) STRICT;
CREATE INDEX manifests_image_id ON manifests(image_id);
CREATE TABLE manifest_layers (
  manifest_digest TEXT NOT NULL REFERENCES manifests(digest) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  digest TEXT NOT NULL,
  media_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  PRIMARY KEY (manifest_digest, position)
) STRICT;
CREATE INDEX manifest_layers_digest ON manifest_layers(digest);
CREATE TABLE tags (
  name TEXT NOT NULL,
  tag TEXT NOT NULL,
  manifest_digest TEXT NOT NULL REFERENCES manifests(digest) ON DELETE CASCADE,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (name, tag)
) STRICT;
CREATE INDEX tags_manifest ON tags(manifest_digest);
CREATE TABLE repo_digests (
  name TEXT NOT NULL,
  manifest_digest TEXT NOT NULL REFERENCES manifests(digest) ON DELETE CASCADE,
  PRIMARY KEY (name, manifest_digest)
) STRICT;
`,
  },
  {
    description: 'leases protecting blobs of writes in progress',
    up: `
CREATE TABLE leases (
  id TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
) STRICT;
CREATE TABLE lease_blobs (
  lease_id TEXT NOT NULL REFERENCES leases(id) ON DELETE CASCADE,
  digest TEXT NOT NULL,
  PRIMARY KEY (lease_id, digest)
) STRICT;
`,
  },
  {
    description: 'uncompressed layer sizes',
    up: `
CREATE TABLE layer_sizes (
  diff_id TEXT PRIMARY KEY,
  size INTEGER NOT NULL
) STRICT;
`,
  },
];

/** Every blob digest some image or unexpired lease still needs; parameter: now in ms. */
export const REFERENCED_BLOBS = `
SELECT digest FROM manifests
UNION SELECT id FROM images
UNION SELECT digest FROM manifest_layers
UNION SELECT b.digest FROM lease_blobs b JOIN leases l ON l.id = b.lease_id WHERE l.expires_at > ?`;
