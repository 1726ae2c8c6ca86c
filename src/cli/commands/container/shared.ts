/** What the container verbs share: opening the engine, docker's error messages, per-container loops. */
import { SkiffError } from '../../../common/index.ts';
import { Engine } from '../../../engine/index.ts';
import { type Context, daemonError, EXIT_FAILURE, StatusError } from '../../command.ts';

/** Runs fn with the engine open (ctx's --root / --runroot), closing it after. */
export async function withEngine<T>(ctx: Context, fn: (engine: Engine) => Promise<T> | T): Promise<T> {
  const engine = await Engine.open({ root: ctx.globals.root, runroot: ctx.globals.runroot });
  try {
    return await fn(engine);
  } finally {
    engine.close();
  }
}

/**
 * docker's message for a failed operation on container `ref`: "Error response from daemon: No such
 * container: x" for NotFound, the daemon's text for the others.
 */
export function containerError(err: unknown, ref: string): StatusError {
  if (err instanceof StatusError) return err;
  if (err instanceof SkiffError) {
    if (ref !== '' && err.kind === 'NotFound' && /^No such container/.test(err.message))
      return daemonError(`No such container: ${ref}`);
    return daemonError(err.message);
  }
  if (err instanceof Error) return daemonError(err.message);
  throw err;
}

/**
 * docker's loop over several containers (stop, kill, rm, wait…): each one's result printed as it
 * comes, an error for one does not stop the others, exit 1 when any failed.
 */
export async function forEachContainer(
  ctx: Context,
  refs: readonly string[],
  fn: (ref: string) => Promise<string | undefined>,
): Promise<number> {
  let failed = false;
  for (const ref of refs) {
    try {
      const line = await fn(ref);
      if (line !== undefined) ctx.out(`${line}\n`);
    } catch (err) {
      failed = true;
      ctx.err(`${containerError(err, ref).message}\n`);
    }
  }
  return failed ? EXIT_FAILURE : 0;
}

/** `--time`/`-t` seconds as docker's int flag parses it. */
export function parseSeconds(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  if (!/^-?\d+$/.test(text))
    throw new StatusError(
      `invalid argument "${text}" for "${flag}" flag: strconv.ParseInt: parsing "${text}": invalid syntax`,
      125,
    );
  return Number(text);
}
