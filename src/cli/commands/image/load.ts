/** `skiff load` / `skiff image load`: docker-archive or oci-archive, from -i FILE or standard input. */
import { loadArchive } from '../../../image/index.ts';
import { type CommandDef, daemonError } from '../../command.ts';
import { emitImageEvent } from './events.ts';
import { familiar, withStore } from './shared.ts';

const command: CommandDef = {
  usage: '[OPTIONS]',
  summary: 'Load an image from a tar archive or STDIN',
  args: { min: 0, max: 0 },
  flags: [
    {
      name: 'input',
      short: 'i',
      type: 'string',
      valueName: 'string',
      description: 'Read from tar archive file, instead of STDIN',
    },
    { name: 'quiet', short: 'q', type: 'bool', description: 'Suppress the load output' },
  ],
  async run(ctx, { flags }) {
    const input = typeof flags.input === 'string' ? flags.input : undefined;
    if (input === undefined && process.stdin.isTTY) {
      throw daemonError('requested load from stdin, but stdin is empty');
    }
    const loaded = await withStore(ctx, (store) => loadArchive(store, input ?? process.stdin));
    for (const image of loaded) {
      emitImageEvent(ctx, 'load', image.id, image.id);
      if (image.names.length === 0) ctx.out(`Loaded image ID: ${image.id}\n`);
      for (const name of image.names) ctx.out(`Loaded image: ${familiar(name)}\n`);
    }
    return 0;
  },
};

export default command;
