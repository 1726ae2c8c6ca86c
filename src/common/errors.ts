/**
 * One family of errors with a stable kind, mapped once at each edge: an exit code at the CLI,
 * an HTTP status at the API. Messages say what was wrong and what to do about it.
 */
export type ErrorKind =
  | 'NotFound'
  | 'AlreadyExists'
  | 'InvalidArgument'
  | 'FailedPrecondition'
  | 'RuntimeFailure'
  | 'Unavailable'
  | 'NotImplemented';

export class SkiffError extends Error {
  readonly kind: ErrorKind;
  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.name = kind;
  }
}

export const notFound = (message: string, cause?: unknown) => new SkiffError('NotFound', message, { cause });
export const alreadyExists = (message: string, cause?: unknown) =>
  new SkiffError('AlreadyExists', message, { cause });
export const invalidArgument = (message: string, cause?: unknown) =>
  new SkiffError('InvalidArgument', message, { cause });
export const failedPrecondition = (message: string, cause?: unknown) =>
  new SkiffError('FailedPrecondition', message, { cause });
export const runtimeFailure = (message: string, cause?: unknown) =>
  new SkiffError('RuntimeFailure', message, { cause });
export const notImplemented = (message: string, cause?: unknown) =>
  new SkiffError('NotImplemented', message, { cause });

/** The errno name of a Node system error (`ENOENT`), or undefined for anything else. */
export function errnoOf(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

/** Wraps a failed system call as crun words it: "mkdir `/sys/fs/cgroup/x`: EACCES (Permission denied)". */
export function syscallError(operation: string, path: string, err: unknown): SkiffError {
  const code = errnoOf(err) ?? 'EIO';
  const detail = err instanceof Error && 'syscall' in err ? describeErrno(err) : String(err);
  const kind: ErrorKind =
    code === 'ENOENT' ? 'NotFound' : code === 'EEXIST' ? 'AlreadyExists' : 'RuntimeFailure';
  return new SkiffError(kind, `${operation} \`${path}\`: ${code} (${detail})`, { cause: err });
}

function describeErrno(err: Error): string {
  // Node's messages look like "ENOENT: no such file or directory, open '/x'"; keep the middle.
  const match = /^[A-Z0-9]+: ([^,]+)/.exec(err.message);
  return match?.[1] ?? err.message;
}

/** Whether an error is a Node system error with one of the given codes. */
export function hasErrno(err: unknown, ...codes: string[]): boolean {
  const code = errnoOf(err);
  return code !== undefined && codes.includes(code);
}
