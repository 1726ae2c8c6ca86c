/** What the image verbs share: opening the store, docker's error messages, the image's config. */
import { SkiffError } from '../../../common/index.ts';
import {
  familiarString,
  type Image,
  type ImageStore,
  parseDockerRef,
  parseNormalizedNamed,
  ImageStore as Store,
} from '../../../image/index.ts';
import { type Context, daemonError, StatusError } from '../../command.ts';

export async function openStore(ctx: Context): Promise<ImageStore> {
  return Store.open({ root: ctx.globals.root });
}

/** Runs fn with the store open, closing it after. */
export async function withStore<T>(ctx: Context, fn: (store: ImageStore) => Promise<T> | T): Promise<T> {
  const store = await openStore(ctx);
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}

/** The reference as docker's daemon echoes it: `busybox` → `busybox:latest`; IDs as typed. */
export function familiarInput(input: string): string {
  if (/^(sha256:)?[a-f0-9]{1,64}$/.test(input)) return input;
  try {
    return familiarString(parseDockerRef(input));
  } catch {
    return input;
  }
}

/** A full stored name (`docker.io/library/busybox:latest`) as docker shows it (`busybox:latest`). */
export function familiar(fullName: string): string {
  try {
    return familiarString(parseNormalizedNamed(fullName));
  } catch {
    return fullName;
  }
}

/** docker's message for a failed operation on `input`. */
export function imageError(err: unknown, input: string): StatusError {
  if (err instanceof StatusError) return err;
  if (err instanceof SkiffError) {
    if (err.kind === 'NotFound') return daemonError(`No such image: ${familiarInput(input)}`);
    return daemonError(err.message);
  }
  throw err;
}

/** The image's config blob, as Docker's inspect and history read it. */
export interface FullConfig {
  readonly created?: string;
  readonly author?: string;
  readonly comment?: string;
  readonly architecture?: string;
  readonly os?: string;
  readonly variant?: string;
  readonly config?: Record<string, unknown>;
  readonly rootfs?: { type?: string; diff_ids?: string[] };
  readonly history?: Array<{
    created?: string;
    created_by?: string;
    author?: string;
    comment?: string;
    empty_layer?: boolean;
  }>;
}

export async function readConfig(store: ImageStore, image: Image): Promise<FullConfig> {
  return JSON.parse((await store.content.readBytes(image.id)).toString('utf8')) as FullConfig;
}

/** `sha256:abc…` → `abc…` (12 hex) unless noTrunc. */
export function shortId(id: string, noTrunc: boolean): string {
  return noTrunc ? id : id.replace(/^sha256:/, '').slice(0, 12);
}
