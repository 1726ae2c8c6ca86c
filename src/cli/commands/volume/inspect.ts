/** `skiff volume inspect`: Docker's Volume JSON (API 1.50 shape) or a --format template. */
import type { Volume } from '../../../engine/index.ts';
import type { CommandDef } from '../../command.ts';
import { INSPECT_FORMAT_FLAG, inspectOutput, inspectTemplate, struct } from '../../render/index.ts';
import { createdAt, volumeError, withVolumes } from './shared.ts';

/** The fields `docker volume inspect` prints, in its order. */
export function volumeInspect(v: Volume): Record<string, unknown> {
  return struct('volume.Volume', {
    CreatedAt: createdAt(v),
    Driver: v.driver,
    Labels: { ...v.labels },
    Mountpoint: v.mountpoint,
    Name: v.name,
    Options: { ...v.options },
    Scope: 'local',
  });
}

const command: CommandDef = {
  usage: '[OPTIONS] VOLUME [VOLUME...]',
  summary: 'Display detailed information on one or more volumes',
  args: { min: 1 },
  flags: [INSPECT_FORMAT_FLAG],
  async run(ctx, { flags, args }) {
    const template = inspectTemplate(flags.format);
    const found: Record<string, unknown>[] = [];
    const errors: string[] = [];
    await withVolumes(ctx, (store) => {
      for (const name of args) {
        try {
          found.push(volumeInspect(store.get(name)));
        } catch (err) {
          errors.push(volumeError(err).message);
        }
      }
    });
    ctx.out(inspectOutput(found, template));
    for (const message of errors) ctx.err(`${message}\n`);
    return errors.length > 0 ? 1 : 0;
  },
};

export default command;
