/**
 * Content digests as the OCI image spec and go-digest define them: `<algorithm>:<encoded>`, with the
 * registered algorithms sha256 (64 lowercase hex) and sha512 (128 lowercase hex).
 */
import { createHash, type Hash } from 'node:crypto';
import { invalidArgument } from '../common/index.ts';

export type DigestAlgorithm = 'sha256' | 'sha512';

/** A validated digest string such as `sha256:e3b0…`. */
export type Digest = string;

export interface ParsedDigest {
  readonly algorithm: DigestAlgorithm;
  readonly encoded: string;
}

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

/** The OCI grammar: algorithm components joined by separators, then `:` and the encoded part. */
const DIGEST_GRAMMAR = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** Parses and validates a digest; the error names the digest and what is wrong with it. */
export function parseDigest(digest: string): ParsedDigest {
  if (!DIGEST_GRAMMAR.test(digest))
    throw invalidArgument(`digest \`${digest}\`: invalid checksum digest format`);
  const colon = digest.indexOf(':');
  const algorithm = digest.slice(0, colon);
  const encoded = digest.slice(colon + 1);
  if (algorithm !== 'sha256' && algorithm !== 'sha512')
    throw invalidArgument(
      `digest \`${digest}\`: unsupported digest algorithm \`${algorithm}\` (sha256, sha512)`,
    );
  if (encoded.length !== HEX_LENGTH[algorithm])
    throw invalidArgument(
      `digest \`${digest}\`: invalid checksum digest length (${algorithm} has ${HEX_LENGTH[algorithm]} hex digits, not ${encoded.length})`,
    );
  if (!/^[a-f0-9]+$/.test(encoded))
    throw invalidArgument(`digest \`${digest}\`: invalid checksum digest format (lowercase hex expected)`);
  return { algorithm, encoded };
}

/** Whether s is a valid digest of a supported algorithm. */
export function isDigest(s: string): boolean {
  try {
    parseDigest(s);
    return true;
  } catch {
    // Validity is the answer; the reason is parseDigest's to report.
    return false;
  }
}

export function newHash(algorithm: DigestAlgorithm): Hash {
  return createHash(algorithm);
}

/** The digest of bytes (sha256 unless told). */
export function digestOf(data: string | Uint8Array, algorithm: DigestAlgorithm = 'sha256'): Digest {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}
