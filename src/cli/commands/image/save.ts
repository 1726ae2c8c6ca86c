/** `skiff save` / `skiff image save`: images to a docker-archive (or, as podman, an oci-archive). */
import { createWriteStream } from 'node:fs';
import { saveArchive } from '../../../image/index.ts';
import { type CommandDef, EXIT_USAGE, StatusError } from '../../command.ts';
import { emitImageEvent } from './events.ts';
import { imageError, withStore } from './shared.ts';

const FORMATS = ['docker-archive', 'oci-archive'] as const;

const command: CommandDef = {
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  summary: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
  args: { min: 1 },
  flags: [
    {
      name: 'output',
      short: 'o',
      type: 'string',
      valueName: 'string',
      description: 'Write to a file, instead of STDOUT',
    },
    {
      name: 'format',
      type: 'string',
      valueName: 'string',
      defaultText: 'docker-archive',
      description: 'Archive format: docker-archive or oci-archive',
    },
  ],
  async run(ctx, { flags, args }) {
    const format = typeof flags.format === 'string' ? flags.format : 'docker-archive';
    if (!(FORMATS as readonly string[]).includes(format)) {
      throw new StatusError(`invalid --format "${format}": use docker-archive or oci-archive`, EXIT_USAGE);
    }
    const output = typeof flags.output === 'string' ? flags.output : undefined;
    if (output === undefined && process.stdout.isTTY) {
      throw new StatusError('cowardly refusing to save to a terminal. Use the -o flag or redirect', 1);
    }
    await withStore(ctx, async (store) => {
      try {
        await saveArchive(
          store,
          args,
          format as (typeof FORMATS)[number],
          output ?? createWriteStream('', { fd: 1 }),
        );
        for (const ref of args) {
          const id = store.resolve(ref).id;
          emitImageEvent(ctx, 'save', id, id);
        }
      } catch (err) {
        throw imageError(err, args.join(' '));
      }
    });
    return 0;
  },
};

export default command;
