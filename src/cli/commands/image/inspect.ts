/** `skiff image inspect`: Docker's ImageInspect JSON (API 1.50 shape) or a --format template. */
import type { Image, ImageStore } from '../../../image/index.ts';
import type { CommandDef } from '../../command.ts';
import { INSPECT_FORMAT_FLAG, inspectOutput, inspectTemplate, struct } from '../../render/index.ts';
import { familiar, imageError, readConfig, withStore } from './shared.ts';

const ZERO_TIME = '0001-01-01T00:00:00Z';

/** The fields `docker image inspect` prints, in its order. */
export async function imageInspect(store: ImageStore, image: Image): Promise<Record<string, unknown>> {
  const config = await readConfig(store, image);
  return struct('image.InspectResponse', {
    Id: image.id,
    RepoTags: image.repoTags.map(familiar),
    RepoDigests: image.repoDigests.map(familiar),
    Comment: config.comment ?? '',
    Created: config.created ?? ZERO_TIME,
    Author: config.author ?? '',
    Config: config.config ?? {},
    Architecture: image.architecture,
    ...(image.variant ? { Variant: image.variant } : {}),
    Os: image.os,
    Size: image.size,
    RootFS: { Type: 'layers', Layers: image.layers.map((l) => l.diffId) },
    Metadata: { LastTagTime: ZERO_TIME },
  });
}

const command: CommandDef = {
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  summary: 'Display detailed information on one or more images',
  args: { min: 1 },
  flags: [INSPECT_FORMAT_FLAG],
  async run(ctx, { flags, args }) {
    const template = inspectTemplate(flags.format);
    const found: Record<string, unknown>[] = [];
    const errors: string[] = [];
    await withStore(ctx, async (store) => {
      for (const input of args) {
        try {
          found.push(await imageInspect(store, store.resolve(input)));
        } catch (err) {
          errors.push(imageError(err, input).message);
        }
      }
    });
    ctx.out(inspectOutput(found, template));
    for (const message of errors) ctx.err(`${message}\n`);
    return errors.length > 0 ? 1 : 0;
  },
};

export default command;
