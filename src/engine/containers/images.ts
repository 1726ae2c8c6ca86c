/** The images a container is made from: lookup (with the built-in hello-world) and their configs. */
import { notFound, SkiffError } from '../../common/index.ts';
import {
  ensureHelloWorld,
  familiarString,
  HELLO_WORLD,
  type Image,
  ImageStore,
  parseDockerRef,
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
 * registry). Pulling from registries comes with the registry client; until then a missing image is
 * reported as Docker reports an image it cannot find.
 */
export async function findImage(
  store: ImageStore,
  ref: string,
  pull: 'missing' | 'always' | 'never',
): Promise<Image> {
  if (!ref) throw new SkiffError('InvalidArgument', 'no image given: name the image to run');
  try {
    if (pull !== 'always') return store.resolve(ref);
  } catch (err) {
    if (!(err instanceof SkiffError && err.kind === 'NotFound')) throw err;
  }
  if (isHelloWorld(ref)) return ensureHelloWorld(store);
  if (pull === 'never') throw notFound(`No such image: ${ref}`);
  throw notFound(
    `Unable to find image '${ref}' locally, and pulling from a registry is not available in this version of skiff: load it with \`skiff load\` or \`skiff import\``,
  );
}

function isHelloWorld(ref: string): boolean {
  try {
    return familiarString(parseDockerRef(ref)) === HELLO_WORLD;
  } catch {
    return false;
  }
}
