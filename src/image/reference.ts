/**
 * Image references as Docker reads them, following docker/distribution's `reference` package (the
 * grammar of regexp.go, Parse, ParseNormalizedNamed, ParseDockerRef, FamiliarName):
 *
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [ domain "/" ] path-component { "/" path-component }      (at most 255 characters)
 *   domain    := host [ ":" port ]       host: DNS labels joined by "." (any case), or "[ipv6]"
 *   path-component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
 *   tag       := [\w][\w.-]{0,127}
 *
 * Normalization: a first component is a domain only when it holds `.` or `:`, is `localhost`, or has
 * uppercase letters; otherwise the domain is docker.io, and a single-component path there gets the
 * `library/` namespace (`busybox` → `docker.io/library/busybox`). `index.docker.io` means docker.io.
 */
import { invalidArgument, type SkiffError } from '../common/index.ts';
import { type Digest, parseDigest } from './digest.ts';

export interface Reference {
  /** Registry host and port; '' only for a reference parsed with parseReference that has none. */
  readonly domain: string;
  /** The repository path inside the registry (`library/busybox`). */
  readonly path: string;
  readonly tag?: string;
  readonly digest?: Digest;
}

export const DEFAULT_DOMAIN = 'docker.io';
export const DEFAULT_TAG = 'latest';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
export const NAME_TOTAL_LENGTH_MAX = 255;

// The grammar of distribution's regexp.go, piece by piece.
const ALPHANUMERIC = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALPHANUMERIC}(?:${SEPARATOR}${ALPHANUMERIC})*`;
const DOMAIN_NAME_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_NAME_COMPONENT}(?:\\.${DOMAIN_NAME_COMPONENT})*`;
const IPV6_ADDRESS = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN_AND_PORT = `(?:${DOMAIN_NAME}|${IPV6_ADDRESS})(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const REMOTE_NAME = `${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const NAME = `(?:${DOMAIN_AND_PORT}/)?${REMOTE_NAME}`;

const REFERENCE_RE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const ANCHORED_NAME_RE = new RegExp(`^(?:(${DOMAIN_AND_PORT})/)?(${REMOTE_NAME})$`);
const ANCHORED_TAG_RE = new RegExp(`^${TAG}$`);
const IDENTIFIER_RE = /^[a-f0-9]{64}$/;

function referenceError(input: string, reason: string, cause?: unknown): SkiffError {
  return invalidArgument(`invalid reference \`${input}\`: ${reason}`, cause);
}

/**
 * Parses a reference exactly as written (distribution's Parse): no default domain, no default tag.
 * Throws InvalidArgument naming the reference and what is wrong with it.
 */
export function parseReference(input: string): Reference {
  const match = REFERENCE_RE.exec(input);
  if (!match) throw referenceError(input, explainInvalid(input));
  const name = match[1]!;
  if (name.length > NAME_TOTAL_LENGTH_MAX)
    throw referenceError(input, `repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  const parts = ANCHORED_NAME_RE.exec(name)!;
  const ref: { domain: string; path: string; tag?: string; digest?: Digest } = {
    domain: parts[1] ?? '',
    path: parts[2]!,
  };
  if (match[2] !== undefined) ref.tag = match[2];
  if (match[3] !== undefined) ref.digest = parseReferenceDigest(input, match[3]);
  return ref;
}

function parseReferenceDigest(input: string, digest: string): Digest {
  try {
    parseDigest(digest);
  } catch (err) {
    throw referenceError(input, (err as Error).message, err);
  }
  return digest;
}

/** Why input does not match the grammar, in words a user can act on. */
function explainInvalid(input: string): string {
  if (input === '') return 'repository name must have at least one component';
  if (REFERENCE_RE.test(input.toLowerCase()))
    return 'invalid reference format: repository name must be lowercase';
  if (/^[:@/]/.test(input)) return 'invalid reference format: the repository name is missing';
  const at = input.indexOf('@');
  if (at >= 0 && !new RegExp(`^${DIGEST}$`).test(input.slice(at + 1)))
    return `invalid reference format: \`${input.slice(at + 1)}\` is not a digest (algorithm:hex)`;
  const beforeDigest = at >= 0 ? input.slice(0, at) : input;
  const colon = beforeDigest.lastIndexOf(':');
  const tag = colon > beforeDigest.lastIndexOf('/') ? beforeDigest.slice(colon + 1) : undefined;
  if (tag !== undefined && !ANCHORED_TAG_RE.test(tag))
    return `invalid reference format: invalid tag \`${tag}\` (letters, digits, _ . -; at most 128; not starting with . or -)`;
  return 'invalid reference format: path components are lowercase letters and digits, separated by `.`, `_`, `__` or `-`, joined by `/`';
}

/** Splits a name as Docker does: which part is the registry, and which the repository path. */
function splitDockerDomain(name: string): { domain: string; remainder: string } {
  const slash = name.indexOf('/');
  let domain = DEFAULT_DOMAIN;
  let remainder = name;
  if (slash >= 0) {
    const first = name.slice(0, slash);
    const rest = name.slice(slash + 1);
    if (first === LEGACY_DEFAULT_DOMAIN) remainder = rest;
    else if (first === 'localhost' || /[.:]/.test(first) || first.toLowerCase() !== first) {
      domain = first;
      remainder = rest;
    }
  }
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return { domain, remainder };
}

/**
 * Parses a reference the way `docker` reads one from a user (ParseNormalizedNamed): `busybox` →
 * docker.io/library/busybox. Adds no tag. A bare 64-hex string is refused: it reads as an image ID.
 */
export function parseNormalizedNamed(input: string): Reference {
  if (IDENTIFIER_RE.test(input))
    throw referenceError(
      input,
      'invalid repository name: cannot specify 64-byte hexadecimal strings (an image ID)',
    );
  const { domain, remainder } = splitDockerDomain(input);
  const remote = remainder.split(/[:@]/, 1)[0]!;
  if (remote.toLowerCase() !== remote)
    throw referenceError(input, `invalid reference format: repository name (${remote}) must be lowercase`);
  try {
    return parseReference(`${domain}/${remainder}`);
  } catch (err) {
    // Report the user's text, not our normalized form of it.
    const reason = (err as Error).message.replace(/^invalid reference `[^`]*`: /, '');
    throw referenceError(input, reason, err);
  }
}

/** ParseDockerRef: normalized, with `latest` when the reference names neither tag nor digest. */
export function parseDockerRef(input: string): Reference {
  const ref = parseNormalizedNamed(input);
  if (ref.tag === undefined && ref.digest === undefined) return { ...ref, tag: DEFAULT_TAG };
  return ref;
}

/** `docker.io/library/busybox` */
export function referenceName(ref: Reference): string {
  return ref.domain === '' ? ref.path : `${ref.domain}/${ref.path}`;
}

/** The full string: name[:tag][@digest]. */
export function formatReference(ref: Reference): string {
  return `${referenceName(ref)}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** The short name Docker shows: `docker.io/library/busybox` → `busybox`, `docker.io/a/b` → `a/b`. */
export function familiarName(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return referenceName(ref);
  const path = ref.path;
  if (path.startsWith(OFFICIAL_REPO_PREFIX)) {
    const rest = path.slice(OFFICIAL_REPO_PREFIX.length);
    if (!rest.includes('/')) return rest;
  }
  return path;
}

/** FamiliarString: the short name with tag and digest. */
export function familiarString(ref: Reference): string {
  return `${familiarName(ref)}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** Validates a tag on its own (for `tag SOURCE TARGET`-style APIs). */
export function checkTag(tag: string): string {
  if (!ANCHORED_TAG_RE.test(tag))
    throw invalidArgument(
      `invalid tag \`${tag}\`: letters, digits, _ . -; at most 128; not starting with . or -`,
    );
  return tag;
}
