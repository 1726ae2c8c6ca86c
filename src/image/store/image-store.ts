/**
 * The image store: image metadata in skiff.db over the blobs of a ContentStore, both under one root
 * ($SKIFF_ROOT). It knows manifests, configs, names and layers; it never unpacks a layer (image/layer/)
 * and knows nothing of containers.
 *
 * Blob removal and reference insertion both run inside a write transaction (BEGIN IMMEDIATE), so a
 * blob is never deleted between another store's check that it exists and the row that references it,
 * whether that store is in this process or another one. Inside those transactions only synchronous
 * file calls are made: a second connection in this process waits synchronously on the busy timeout,
 * and an `await` there could never be resumed.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import {
  type Database,
  databasePath,
  failedPrecondition,
  hasErrno,
  inTransaction,
  invalidArgument,
  migrate,
  notFound,
  openDatabase,
  skiffRoot,
  syscallError,
} from '../../common/index.ts';
import { ContentStore } from '../content/index.ts';
import { type Digest, isDigest } from '../digest.ts';
import { formatReference, parseDockerRef, type Reference, referenceName } from '../reference.ts';
import { chainIds } from './chain-id.ts';
import {
  type Descriptor,
  type ImageConfig,
  type ImageManifest,
  type Platform,
  parseConfig,
  parseManifest,
} from './manifest.ts';
import { hostPlatform, selectManifest } from './platform.ts';
import { IMAGE_MIGRATIONS, REFERENCED_BLOBS } from './schema.ts';

export interface ImageLayer {
  /** Digest of the uncompressed tar (config rootfs.diff_ids). */
  readonly diffId: Digest;
  /** Names the unpacked directory: layers/<chain-id>/. */
  readonly chainId: Digest;
  /** The blob in the content store, as the manifest lists it. */
  readonly blob: Descriptor;
}

export interface Image {
  /** Digest of the config blob (Docker's image ID). */
  readonly id: Digest;
  /** The manifest this image was resolved through (for an index: the entry for this platform). */
  readonly manifestDigest: Digest;
  /** `docker.io/library/busybox:latest`, … (full names; familiarString() for display). */
  readonly repoTags: string[];
  /** `docker.io/library/busybox@sha256:…`, … */
  readonly repoDigests: string[];
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
  readonly created?: string;
  /** Config blob plus the manifest's layer blobs, in bytes (compressed). */
  readonly size: number;
  readonly layers: ImageLayer[];
}

export interface OpenImageStoreOptions {
  /** Default $SKIFF_ROOT. */
  readonly root?: string;
  /** The platform picked from indexes; default this host's. */
  readonly platform?: Platform;
}

export interface PutImageOptions {
  /** References to point at the image: `busybox`, `busybox:1.36`, `busybox@sha256:…`. */
  readonly names?: readonly string[];
  /** The media type the manifest was referenced as (a registry's Content-Type), if any. */
  readonly mediaType?: string;
}

export interface RemoveResult {
  /** References removed (full names). */
  readonly untagged: string[];
  /** Image IDs deleted. */
  readonly deleted: Digest[];
  /** Blobs deleted from the content store. */
  readonly blobsDeleted: Digest[];
}

interface ImageRow {
  id: string;
  config_size: number;
  os: string;
  architecture: string;
  variant: string | null;
  created: string | null;
}

/** What putImage read from the content store before taking the write lock. */
interface LoadedImage {
  readonly top: { digest: Digest; mediaType: string; size: number };
  readonly manifestDigest: Digest;
  readonly manifestSize: number;
  readonly manifest: ImageManifest;
  readonly config: ImageConfig;
  readonly configSize: number;
}

const now = () => new Date().toISOString();

export class ImageStore {
  readonly root: string;
  readonly content: ContentStore;
  readonly platform: Platform;
  private readonly db: Database;

  private constructor(root: string, db: Database, platform: Platform) {
    this.root = root;
    this.db = db;
    this.content = new ContentStore(root);
    this.platform = platform;
  }

  /** Opens the store under root (creating the layout and tables as needed). */
  static async open(options: OpenImageStoreOptions = {}): Promise<ImageStore> {
    const root = options.root ?? skiffRoot();
    const db = openDatabase(databasePath(root));
    try {
      migrate(db, 'image', IMAGE_MIGRATIONS);
    } catch (err) {
      db.close();
      throw err;
    }
    const store = new ImageStore(root, db, options.platform ?? hostPlatform());
    await store.content.init();
    return store;
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  // -------------------------------------------------------------------------------------------------
  // Adding images

  /**
   * Records the image whose manifest (or index) is the blob `digest`, with its config and layer blobs
   * already in the content store, and points names at it. Tags move to this image; the manifest's
   * digest stays bound to the same content forever.
   */
  async putImage(digest: Digest, options: PutImageOptions = {}): Promise<Image> {
    const refs = (options.names ?? []).map((name) => parseDockerRef(name));
    const loaded = await this.loadImage(digest, options.mediaType);
    for (const ref of refs)
      if (ref.digest !== undefined && ref.digest !== digest && ref.digest !== loaded.manifestDigest)
        throw invalidArgument(`reference ${formatReference(ref)}: its digest is not the image's (${digest})`);
    inTransaction(this.db, () => {
      this.requireBlobs(loaded);
      this.insertImage(loaded);
      for (const ref of refs) this.pointName(ref, digest);
    });
    return this.imageFor(loaded.manifest.config.digest, loaded.manifestDigest);
  }

  /** Reads and checks the manifest (selecting from an index), the config and the layer list. */
  private async loadImage(digest: Digest, mediaType?: string): Promise<LoadedImage> {
    const { top, manifestDigest, manifestSize, manifest } = await this.loadManifest(digest, mediaType);
    const configBytes = await this.readDescribed(manifest.config, `manifest ${manifestDigest}: config`);
    const config = parseConfig(configBytes, manifest.config.digest);
    if (config.rootfs.diff_ids.length !== manifest.layers.length)
      throw invalidArgument(
        `manifest ${manifestDigest}: lists ${manifest.layers.length} layers but its config has ${config.rootfs.diff_ids.length} diff_ids`,
      );
    return { top, manifestDigest, manifestSize, manifest, config, configSize: configBytes.length };
  }

  /** The image manifest digest names: itself, or an index's entry for this store's platform. */
  private async loadManifest(digest: Digest, mediaType?: string) {
    const bytes = await this.content.readBytes(digest);
    const parsed = parseManifest(bytes, digest, mediaType);
    if (parsed.kind === 'manifest') {
      const top = { digest, mediaType: parsed.manifest.mediaType, size: bytes.length };
      return { top, manifestDigest: digest, manifestSize: bytes.length, manifest: parsed.manifest };
    }
    const top = { digest, mediaType: parsed.index.mediaType, size: bytes.length };
    const entry = selectManifest(parsed.index.manifests, this.platform, `image index ${digest}`);
    const child = parseManifest(
      await this.readDescribed(entry, `image index ${digest}`),
      entry.digest,
      entry.mediaType,
    );
    if (child.kind !== 'manifest')
      throw invalidArgument(`image index ${digest}: nested indexes are not supported`);
    return { top, manifestDigest: entry.digest, manifestSize: entry.size, manifest: child.manifest };
  }

  /** A small blob that a descriptor points at, which must have the size the descriptor says. */
  private async readDescribed(descriptor: Descriptor, what: string): Promise<Buffer> {
    const bytes = await this.content.readBytes(descriptor.digest);
    if (bytes.length !== descriptor.size)
      throw invalidArgument(
        `${what}: ${descriptor.digest} has ${bytes.length} bytes, the descriptor says ${descriptor.size}`,
      );
    return bytes;
  }

  /** Refuses an image whose layer blobs are missing (checked under the write lock, see the header). */
  private requireBlobs(loaded: LoadedImage): void {
    const needed = [loaded.top.digest, loaded.manifestDigest, loaded.manifest.config.digest];
    for (const digest of [...needed, ...loaded.manifest.layers.map((l) => l.digest)])
      if (!existsSync(this.content.blobPath(digest)))
        throw failedPrecondition(`image ${loaded.top.digest}: blob ${digest} is not in the content store`);
  }

  private insertImage(loaded: LoadedImage): void {
    const { manifest, config } = loaded;
    const id = manifest.config.digest;
    const added = this.db
      .prepare(
        `INSERT OR IGNORE INTO images (id, config_size, os, architecture, variant, created, added_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        loaded.configSize,
        config.os,
        config.architecture,
        config.variant ?? null,
        config.created ?? null,
        now(),
      );
    if (added.changes > 0) {
      const chains = chainIds(config.rootfs.diff_ids);
      const insert = this.db.prepare(
        'INSERT INTO image_layers (image_id, position, diff_id, chain_id) VALUES (?, ?, ?, ?)',
      );
      config.rootfs.diff_ids.forEach((diffId, i) => {
        insert.run(id, i, diffId, chains[i]!);
      });
    }
    this.insertManifest(loaded.manifestDigest, manifest.mediaType, loaded.manifestSize, id, null);
    const layer = this.db.prepare(
      'INSERT OR IGNORE INTO manifest_layers (manifest_digest, position, digest, media_type, size) VALUES (?, ?, ?, ?, ?)',
    );
    manifest.layers.forEach((l, i) => {
      layer.run(loaded.manifestDigest, i, l.digest, l.mediaType, l.size);
    });
    if (loaded.top.digest !== loaded.manifestDigest)
      this.insertManifest(
        loaded.top.digest,
        loaded.top.mediaType,
        loaded.top.size,
        id,
        loaded.manifestDigest,
      );
  }

  private insertManifest(
    digest: Digest,
    mediaType: string,
    size: number,
    imageId: Digest,
    child: Digest | null,
  ) {
    // A digest names one content forever, so an existing row is already right.
    this.db
      .prepare(
        `INSERT OR IGNORE INTO manifests (digest, media_type, size, image_id, platform_manifest, added_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(digest, mediaType, size, imageId, child, now());
  }

  /** name:tag → digest (moving the tag), and name@digest recorded so it resolves later. */
  private pointName(ref: Reference, digest: Digest): void {
    const name = referenceName(ref);
    if (ref.tag !== undefined)
      this.db
        .prepare(
          `INSERT INTO tags (name, tag, manifest_digest, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (name, tag) DO UPDATE SET manifest_digest = excluded.manifest_digest, updated_at = excluded.updated_at`,
        )
        .run(name, ref.tag, digest, now());
    this.db
      .prepare('INSERT OR IGNORE INTO repo_digests (name, manifest_digest) VALUES (?, ?)')
      .run(name, ref.digest ?? digest);
  }

  // -------------------------------------------------------------------------------------------------
  // Finding images

  /**
   * The image a user's reference names: `busybox`, `name:tag`, `name@sha256:…` (manifest or index
   * digest), an image ID (`sha256:<hex>` or `<hex>`) or a unique prefix of one. NotFound otherwise.
   */
  resolve(input: string): Image {
    return this.find(input).image;
  }

  /** resolve(), telling also whether input was an ID (or ID prefix) or a reference. */
  private find(input: string): { image: Image; byId: boolean } {
    const id = /^(?:sha256:)?([a-f0-9]{64})$/.exec(input);
    if (id) return { image: this.getById(`sha256:${id[1]}`), byId: true };
    let ref: Reference;
    try {
      ref = parseDockerRef(input);
    } catch (err) {
      if (/^[a-f0-9]+$/.test(input)) return { image: this.getByIdPrefix(input), byId: true };
      throw err;
    }
    const found = this.lookupReference(ref);
    if (found) return { image: this.imageFor(found.imageId, found.manifestDigest), byId: false };
    if (/^[a-f0-9]{1,63}$/.test(input)) return { image: this.getByIdPrefix(input), byId: true };
    throw notFound(`image ${formatReference(ref)} not found`);
  }

  /**
   * The manifest or index digest a reference names (what its tag points at, or its digest) when the
   * store has it; undefined for an image ID. An index's platform entry is resolve()'s manifestDigest.
   */
  referenceDigest(input: string): Digest | undefined {
    let ref: Reference;
    try {
      ref = parseDockerRef(input);
    } catch {
      return undefined;
    }
    return this.lookupReference(ref)?.topDigest;
  }

  /** The image and manifest a reference points at, if the store has them. */
  private lookupReference(
    ref: Reference,
  ): { imageId: Digest; manifestDigest: Digest; topDigest: Digest } | undefined {
    const name = referenceName(ref);
    let digest: Digest | undefined;
    if (ref.digest !== undefined) {
      // name@digest resolves when that name was given that digest (by a pull, a tag, a put).
      const known = this.db
        .prepare(
          `SELECT 1 FROM repo_digests WHERE name = ? AND manifest_digest = ?
           UNION SELECT 1 FROM tags WHERE name = ? AND manifest_digest = ?`,
        )
        .get(name, ref.digest, name, ref.digest);
      digest = known ? ref.digest : undefined;
    } else {
      const row = this.db
        .prepare('SELECT manifest_digest FROM tags WHERE name = ? AND tag = ?')
        .get(name, ref.tag!);
      digest = row ? String(row.manifest_digest) : undefined;
    }
    if (digest === undefined) return undefined;
    const row = this.db
      .prepare('SELECT image_id, platform_manifest FROM manifests WHERE digest = ?')
      .get(digest);
    if (!row) return undefined;
    return {
      imageId: String(row.image_id),
      manifestDigest: String(row.platform_manifest ?? digest),
      topDigest: digest,
    };
  }

  /** An image by its ID (config digest). */
  getById(id: Digest): Image {
    return this.imageFor(id);
  }

  private getByIdPrefix(prefix: string): Image {
    const rows = this.db.prepare("SELECT id FROM images WHERE substr(id, 8) LIKE ? || '%'").all(prefix);
    if (rows.length === 0) throw notFound(`image ${prefix} not found`);
    if (rows.length > 1)
      throw invalidArgument(`image ID prefix ${prefix} is ambiguous: ${rows.length} images match`);
    return this.imageFor(String(rows[0]!.id));
  }

  /** Every image, newest first. */
  list(): Image[] {
    const rows = this.db.prepare('SELECT id FROM images ORDER BY added_at DESC, id').all();
    return rows.map((row) => this.imageFor(String(row.id)));
  }

  /**
   * Records a layer's uncompressed size (known once it is unpacked or imported), which is what an
   * image's size counts, as docker's does; content-addressed by diff ID, so it holds for every image.
   */
  recordLayerSize(diffId: Digest, size: number): void {
    this.db
      .prepare('INSERT INTO layer_sizes (diff_id, size) VALUES (?, ?) ON CONFLICT(diff_id) DO NOTHING')
      .run(diffId, size);
  }

  /** A layer's uncompressed size when known, else its blob's (compressed) size (diagnose, system df). */
  layerSize(diffId: Digest | undefined, blobSize: number): number {
    if (!diffId) return blobSize;
    const row = this.db.prepare('SELECT size FROM layer_sizes WHERE diff_id = ?').get(diffId);
    return row ? Number(row.size) : blobSize;
  }

  /** Assembles an image; manifestDigest defaults to the image's most recently added manifest. */
  private imageFor(id: Digest, manifestDigest?: Digest): Image {
    const row = this.db.prepare('SELECT * FROM images WHERE id = ?').get(id) as ImageRow | undefined;
    if (!row) throw notFound(`image ${id} not found`);
    const manifest = manifestDigest ?? this.latestManifest(id);
    const blobs = this.db
      .prepare(
        'SELECT digest, media_type, size FROM manifest_layers WHERE manifest_digest = ? ORDER BY position',
      )
      .all(manifest)
      .map((l) => ({ digest: String(l.digest), mediaType: String(l.media_type), size: Number(l.size) }));
    const layers = this.db
      .prepare('SELECT diff_id, chain_id FROM image_layers WHERE image_id = ? ORDER BY position')
      .all(id)
      .map((l, i) => ({ diffId: String(l.diff_id), chainId: String(l.chain_id), blob: blobs[i]! }));
    const image: Image = {
      id,
      manifestDigest: manifest,
      repoTags: this.namesOf(id, 'tags'),
      repoDigests: this.namesOf(id, 'repo_digests'),
      os: row.os,
      architecture: row.architecture,
      size: row.config_size + blobs.reduce((sum, b, i) => sum + this.layerSize(layers[i]?.diffId, b.size), 0),
      layers,
    };
    return {
      ...image,
      ...(row.variant ? { variant: row.variant } : {}),
      ...(row.created ? { created: row.created } : {}),
    };
  }

  private latestManifest(id: Digest): Digest {
    const row = this.db
      .prepare(
        `SELECT COALESCE(platform_manifest, digest) AS d FROM manifests WHERE image_id = ?
         ORDER BY added_at DESC, platform_manifest IS NULL DESC LIMIT 1`,
      )
      .get(id);
    if (!row) throw notFound(`image ${id} has no manifest`);
    return String(row.d);
  }

  private namesOf(id: Digest, table: 'tags' | 'repo_digests'): string[] {
    const sql =
      table === 'tags'
        ? `SELECT t.name || ':' || t.tag AS ref FROM tags t JOIN manifests m ON m.digest = t.manifest_digest
           WHERE m.image_id = ? ORDER BY ref`
        : `SELECT r.name || '@' || r.manifest_digest AS ref FROM repo_digests r
           JOIN manifests m ON m.digest = r.manifest_digest WHERE m.image_id = ? ORDER BY ref`;
    return this.db
      .prepare(sql)
      .all(id)
      .map((r) => String(r.ref));
  }

  // -------------------------------------------------------------------------------------------------
  // Names

  /** Points target (`name[:tag]`, default tag latest) at the image source resolves to. */
  tag(source: string, target: string): Image {
    const image = this.resolve(source);
    const ref = parseDockerRef(target);
    if (ref.digest !== undefined) throw invalidArgument(`tag ${target}: a tag cannot name a digest`);
    inTransaction(this.db, () => this.pointName(ref, image.manifestDigest));
    return this.imageFor(image.id, image.manifestDigest);
  }

  /** Removes one tag (or name@digest); NotFound when it does not exist. */
  untag(reference: string): string {
    const ref = parseDockerRef(reference);
    const name = referenceName(ref);
    const result =
      ref.digest !== undefined && ref.tag === undefined
        ? this.db
            .prepare('DELETE FROM repo_digests WHERE name = ? AND manifest_digest = ?')
            .run(name, ref.digest)
        : this.db.prepare('DELETE FROM tags WHERE name = ? AND tag = ?').run(name, ref.tag!);
    if (result.changes === 0) throw notFound(`image reference ${formatReference(ref)} not found`);
    return formatReference(ref);
  }

  // -------------------------------------------------------------------------------------------------
  // Removal and garbage collection

  /**
   * `rmi` as Docker does it: a name removes that name, and the image goes when no tag is left; an ID
   * removes the image with all its names, but refuses an image tagged in several repositories unless
   * force. Blobs of a removed image are deleted unless another image still references them.
   */
  remove(input: string, options: { force?: boolean } = {}): RemoveResult {
    const { image, byId } = this.find(input);
    const untagged: string[] = [];
    if (!byId) untagged.push(this.untag(input));
    const remaining = this.imageFor(image.id).repoTags;
    if (!byId && remaining.length > 0) return { untagged, deleted: [], blobsDeleted: [] };
    if (byId && !options.force && new Set(remaining.map((t) => t.slice(0, t.lastIndexOf(':')))).size > 1)
      throw failedPrecondition(
        `image ${image.id} is referenced in multiple repositories (${remaining.join(', ')}); remove by name, or force`,
      );
    return inTransaction(this.db, () => this.deleteImageLocked(image, untagged));
  }

  /** `image prune`: removes every dangling image (one without tags) and the blobs only they used. */
  pruneDangling(keep: ReadonlySet<string> = new Set()): RemoveResult {
    return inTransaction(this.db, () => {
      const dangling = this.db
        .prepare(
          `SELECT id FROM images WHERE id NOT IN
             (SELECT m.image_id FROM tags t JOIN manifests m ON m.digest = t.manifest_digest)`,
        )
        .all()
        .map((r) => String(r.id))
        .filter((id) => !keep.has(id));
      const results = dangling.map((id) => this.deleteImageLocked(this.imageFor(id), []));
      return {
        untagged: results.flatMap((r) => r.untagged),
        deleted: results.flatMap((r) => r.deleted),
        blobsDeleted: results.flatMap((r) => r.blobsDeleted),
      };
    });
  }

  /** Deletes the image's rows and then its unreferenced blobs; the caller holds the write lock. */
  private deleteImageLocked(image: Image, untagged: string[]): RemoveResult {
    const current = this.imageFor(image.id);
    untagged.push(...current.repoTags, ...current.repoDigests);
    const manifests = this.db
      .prepare('SELECT digest FROM manifests WHERE image_id = ?')
      .all(image.id)
      .map((r) => String(r.digest));
    const layerBlobs = this.db
      .prepare(
        `SELECT DISTINCT l.digest FROM manifest_layers l JOIN manifests m ON m.digest = l.manifest_digest WHERE m.image_id = ?`,
      )
      .all(image.id)
      .map((r) => String(r.digest));
    this.db.prepare('DELETE FROM images WHERE id = ?').run(image.id);
    const candidates = new Set([...manifests, image.id, ...layerBlobs]);
    const blobsDeleted = this.deleteUnreferencedLocked(candidates, 0);
    return { untagged, deleted: [image.id], blobsDeleted };
  }

  /** Deletes those candidates that no row references (and that are older than graceMs). */
  private deleteUnreferencedLocked(candidates: Iterable<Digest>, graceMs: number): Digest[] {
    const referenced = new Set(
      this.db
        .prepare(REFERENCED_BLOBS)
        .all(Date.now())
        .map((r) => String(r.digest)),
    );
    const deleted: Digest[] = [];
    for (const digest of candidates) {
      if (referenced.has(digest)) continue;
      if (this.deleteBlobSync(digest, graceMs)) deleted.push(digest);
    }
    return deleted;
  }

  private deleteBlobSync(digest: Digest, graceMs: number): boolean {
    const file = this.content.blobPath(digest);
    try {
      if (graceMs > 0 && Date.now() - statSync(file).mtimeMs < graceMs) return false;
      unlinkSync(file);
      return true;
    } catch (err) {
      if (hasErrno(err, 'ENOENT')) return false;
      throw syscallError('unlink', file, err);
    }
  }

  /**
   * Deletes every blob no image references, and temporary files of abandoned writes. Both only when
   * older than graceMs (default 1 hour): a pull or load in progress has blobs that no image references
   * yet, and an ingest that is still writing keeps touching its file.
   */
  async gc(options: { graceMs?: number } = {}): Promise<Digest[]> {
    const graceMs = options.graceMs ?? 60 * 60 * 1000;
    const deleted = inTransaction(this.db, () => this.deleteUnreferencedLocked(this.allBlobsSync(), graceMs));
    await this.content.pruneIngests(graceMs);
    return deleted;
  }

  private allBlobsSync(): Digest[] {
    const out: Digest[] = [];
    for (const algorithm of ['sha256', 'sha512']) {
      const dir = path.join(this.content.root, 'blobs', algorithm);
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch (err) {
        if (hasErrno(err, 'ENOENT')) continue;
        throw syscallError('readdir', dir, err);
      }
      for (const name of names.sort()) if (isDigest(`${algorithm}:${name}`)) out.push(`${algorithm}:${name}`);
    }
    return out;
  }

  // -------------------------------------------------------------------------------------------------
  // Leases

  /**
   * Protects blobs from remove() and gc() until the lease is released or expires (default 1 hour), as
   * containerd's leases do. A pull takes one for the manifest's blobs before it checks which it already
   * has, so a concurrent `rmi` of an image sharing a layer cannot delete it between that check and
   * putImage. The blobs need not exist yet. Returns the lease ID.
   */
  createLease(digests: readonly Digest[], ttlMs = 60 * 60 * 1000): string {
    for (const digest of digests)
      if (!isDigest(digest)) throw invalidArgument(`lease: \`${digest}\` is not a digest`);
    const id = randomUUID();
    inTransaction(this.db, () => {
      this.db.prepare('INSERT INTO leases (id, expires_at) VALUES (?, ?)').run(id, Date.now() + ttlMs);
      const add = this.db.prepare('INSERT OR IGNORE INTO lease_blobs (lease_id, digest) VALUES (?, ?)');
      for (const digest of digests) add.run(id, digest);
    });
    return id;
  }

  /** Ends a lease (and drops expired ones); its blobs are garbage unless an image now names them. */
  releaseLease(id: string): void {
    this.db.prepare('DELETE FROM leases WHERE id = ? OR expires_at <= ?').run(id, Date.now());
  }

  /** Runs fn under a lease on digests, released when fn settles. */
  async withLease<T>(digests: readonly Digest[], fn: () => Promise<T>): Promise<T> {
    const lease = this.createLease(digests);
    try {
      return await fn();
    } finally {
      this.releaseLease(lease);
    }
  }

  /**
   * Runs fn (synchronous) under the database's write lock, as blob deletion does: the layer store
   * checks chainIdsInUse and renames an unused layer dir away under it, so no putImage can start
   * using that layer in between (any process sharing the root).
   */
  underWriteLock<T>(fn: () => T): T {
    return inTransaction(this.db, fn);
  }

  /** Chain IDs of every layer some image uses (for the layer store's GC). */
  chainIdsInUse(): Set<Digest> {
    return new Set(
      this.db
        .prepare('SELECT DISTINCT chain_id FROM image_layers')
        .all()
        .map((r) => String(r.chain_id)),
    );
  }
}
