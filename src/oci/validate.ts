/**
 * Validation of a bundle's config.json: first against the OCI runtime JSON schema (a validator generated
 * at build time by scripts/gen-oci-validators.mjs, so nothing is compiled at start-up), then against the
 * rules a Linux runtime needs beyond the schema (./semantics.ts).
 */
import { invalidArgument, type SkiffError } from '../common/index.ts';
import { type ConfigIssue, fieldPath } from './config-issue.ts';
import { type ValidationError, validateConfig } from './generated/validate-config.js';
import type { Spec } from './runtime-spec.ts';
import { checkSemantics } from './semantics.ts';

export type { ConfigIssue } from './config-issue.ts';

/** How many issues a thrown error lists; the rest are counted. */
const MAX_REPORTED = 5;

/**
 * Checks a parsed config.json and returns it typed, or throws an InvalidArgument SkiffError that names
 * the file and each offending field: `config.json: linux.resources.memory.limit: must be integer`.
 */
export function validateSpec(json: unknown, file = 'config.json'): Spec {
  const issues = checkSpec(json);
  if (issues.length > 0) throw issuesError(file, issues);
  return json as Spec;
}

/**
 * Every problem with a parsed config.json, schema first; the semantic rules run only on a config the
 * schema accepts, since they rely on its types.
 */
export function checkSpec(json: unknown): ConfigIssue[] {
  if (!validateConfig(json)) return schemaIssues(validateConfig.errors ?? [], json);
  return checkSemantics(json as Spec);
}

/**
 * Parses and validates the text of a config.json. A syntax error is reported with its line and column,
 * as a compiler would: `bundle/config.json:3:7: invalid JSON: Expected ',' or '}' after property value`.
 */
export function parseSpec(text: string, file = 'config.json'): Spec {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw jsonSyntaxError(text, file, err);
  }
  return validateSpec(json, file);
}

function issuesError(file: string, issues: ConfigIssue[]): SkiffError {
  const lines = issues.slice(0, MAX_REPORTED).map((issue) => `${file}: ${formatIssue(issue)}`);
  const rest = issues.length - MAX_REPORTED;
  if (rest > 0) lines.push(`${file}: … and ${rest} more ${rest === 1 ? 'error' : 'errors'}`);
  return invalidArgument(lines.join('\n'));
}

function formatIssue({ path, message }: ConfigIssue): string {
  return path === '' ? message : `${path}: ${message}`;
}

// ---------------------------------------------------------------------------------------------------
// Schema errors in OCI terms

function schemaIssues(errors: ValidationError[], json: unknown): ConfigIssue[] {
  // An `anyOf` only restates that one of its branches failed; the branch's own errors say why.
  const specific = errors.filter(
    (e) =>
      e.keyword !== 'anyOf' ||
      !errors.some((other) => other !== e && isWithin(other.instancePath, e.instancePath)),
  );
  const seen = new Set<string>();
  const issues: ConfigIssue[] = [];
  for (const error of specific) {
    const issue = schemaIssue(error, json);
    const key = `${issue.path}\0${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
  }
  return issues;
}

function isWithin(path: string, parent: string): boolean {
  return path === parent || path.startsWith(`${parent}/`);
}

function schemaIssue(error: ValidationError, json: unknown): ConfigIssue {
  const segments = pointerSegments(error.instancePath);
  const params = error.params;
  switch (error.keyword) {
    case 'required':
      return { path: fieldPath([...segments, String(params.missingProperty)]), message: 'is required' };
    case 'type': {
      const value = valueAt(json, segments);
      return {
        path: fieldPath(segments),
        message: `must be ${article(String(params.type))}, not ${describe(value)}`,
      };
    }
    case 'enum': {
      const allowed = Array.isArray(params.allowedValues) ? params.allowedValues : [];
      return {
        path: fieldPath(segments),
        message: `${describe(valueAt(json, segments))} is not one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`,
      };
    }
    case 'pattern':
      return {
        path: fieldPath(segments),
        message: `${describe(valueAt(json, segments))} must match ${String(params.pattern)}`,
      };
    default:
      return { path: fieldPath(segments), message: error.message ?? `fails schema rule ${error.keyword}` };
  }
}

/** The decoded segments of a JSON pointer (RFC 6901): `/linux/sysctl/a~1b` → ['linux', 'sysctl', 'a/b']. */
function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function valueAt(json: unknown, segments: string[]): unknown {
  let value = json;
  for (const segment of segments) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

function article(type: string): string {
  return type === 'object' || type === 'array' || type === 'integer' ? `an ${type}` : `a ${type}`;
}

/** A short, bounded description of a JSON value for a message. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === 'number') return Number.isInteger(value) ? `${value}` : `the number ${value}`;
  return String(value);
}

// ---------------------------------------------------------------------------------------------------
// JSON syntax errors with a position

function jsonSyntaxError(text: string, file: string, err: unknown): SkiffError {
  // V8 gives a position for some syntax errors only ("Unexpected token '}', "{…" is not valid JSON"
  // has none), so the error is found again by a small scanner that knows where it stopped.
  const found = locateJsonError(text);
  const reason = found?.reason ?? (err instanceof Error ? err.message : String(err));
  const { line, column } = lineAndColumn(text, found?.offset ?? text.length);
  return invalidArgument(`${file}:${line}:${column}: invalid JSON: ${reason}`, err);
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

class JsonSyntax {
  readonly offset: number;
  readonly reason: string;
  constructor(offset: number, reason: string) {
    this.offset = offset;
    this.reason = reason;
  }
}

/**
 * The offset and a reason of the first syntax error in `text` (RFC 8259), or undefined if there is none.
 * Runs only after JSON.parse has failed, so it favours clear messages over speed.
 */
export function locateJsonError(text: string): { offset: number; reason: string } | undefined {
  let i = 0;
  const fail = (reason: string, at = i): never => {
    throw new JsonSyntax(at, reason);
  };
  const unexpected = (expected: string): never =>
    i >= text.length
      ? fail(`unexpected end of input, expected ${expected}`)
      : fail(`unexpected ${JSON.stringify(text[i])}, expected ${expected}`);
  const skipSpace = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else unexpected('a value');
  };
  const digits = (what: string) => {
    if (!/[0-9]/.test(text[i] ?? '')) unexpected(what);
    while (/[0-9]/.test(text[i] ?? '')) i++;
  };
  const number = () => {
    if (text[i] === '-') i++;
    if (text[i] === '0') i++;
    else digits('a digit');
    if (text[i] === '.') {
      i++;
      digits('a digit after the decimal point');
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      digits('a digit in the exponent');
    }
  };
  const string = () => {
    const start = i;
    i++;
    for (;;) {
      if (i >= text.length) fail('unterminated string', start);
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) fail('control character in string (escape it, e.g. \\n)');
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('invalid \\u escape in string');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else fail('invalid escape in string');
      } else i++;
    }
  };
  const value = (): void => {
    skipSpace();
    const c = text[i];
    if (c === '{') {
      i++;
      skipSpace();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        skipSpace();
        if (text[i] !== '"') unexpected('a property name in double quotes');
        string();
        skipSpace();
        if (text[i] !== ':') unexpected("':' after the property name");
        i++;
        value();
        skipSpace();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        unexpected("',' or '}' after a property value");
      }
    }
    if (c === '[') {
      i++;
      skipSpace();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        skipSpace();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        unexpected("',' or ']' after an array element");
      }
    }
    if (c === '"') string();
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) number();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else unexpected('a value');
  };
  try {
    value();
    skipSpace();
    if (i < text.length) fail(`unexpected ${JSON.stringify(text[i])} after the end of the JSON value`);
    return undefined;
  } catch (err) {
    if (err instanceof JsonSyntax) return { offset: err.offset, reason: err.reason };
    // A RangeError from nesting too deep to scan: report it without a position.
    return undefined;
  }
}
