/** The images a container is made from: lookup (with the built-in hello-world) and their configs. */
import { notFound, SkiffError } from '../../common/index.ts';
import {
  ensureHelloWorld,
  familiarString,
  HELLO_WORLD,
  type Image,
  ImageStore,
  parseDockerRef,
  pullImage,
  pullStatusLine,
  pullSummaryLines,
} from '../../image/index.ts';

export async function openImages(root: string): Promise<ImageStore> {
  return ImageStore.open({ root });
}

/** The `config` object of an image's config blob (Env, Cmd, Entrypoint, …), as Docker's. */
export async function imageRuntimeConfig(store: ImageStore, image: Image): Promise<Record<string, unknown>> {
  const blob = JSON.parse((await store.content.readBytes(image.id)).toString('utf8')) as {
    config?: Record<string, unknown>;
  };
  return blob.config ?? {};
}

/**
 * The image for `run`/`create`. hello-world is built in (a fresh install runs something without a
 * registry). Otherwise `--pull missing` pulls an image the store lacks and `always` pulls every time,
 * with docker's lines (on stderr, as docker's CLI writes them for run and create) through log.
 */
export async function findImage(
  store: ImageStore,
  ref: string,
  pull: 'missing' | 'always' | 'never',
  log: (text: string) => void = (text) => process.stderr.write(text),
  onPulled?: (familiarRef: string) => void,
): Promise<Image> {
  if (!ref) throw new SkiffError('InvalidArgument', 'no image given: name the image to run');
  try {
    if (pull !== 'always') return store.resolve(ref);
  } catch (err) {
    if (!(err instanceof SkiffError && err.kind === 'NotFound')) throw err;
  }
  if (isHelloWorld(ref)) return ensureHelloWorld(store);
  if (pull === 'never') throw notFound(`No such image: ${ref}`);
  if (pull === 'missing') log(`Unable to find image '${familiarOf(ref)}' locally\n`);
  const result = await pullImage(store, ref, { onStatus: (s) => log(pullStatusLine(s)) });
  log(pullSummaryLines(result));
  onPulled?.(familiarOf(ref));
  return result.image;
}

function familiarOf(ref: string): string {
  try {
    return familiarString(parseDockerRef(ref));
  } catch {
    return ref;
  }
}

function isHelloWorld(ref: string): boolean {
  try {
    return familiarString(parseDockerRef(ref)) === HELLO_WORLD;
  } catch {
    return false;
  }
}
