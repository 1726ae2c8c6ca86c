/** `skiff import`: a root filesystem tarball (file or `-` for standard input) as a one-layer image. */
import { hasErrno } from '../../../common/index.ts';
import { importRootfs } from '../../../image/index.ts';
import { type CommandDef, daemonError } from '../../command.ts';
import { emitImageEvent } from './events.ts';
import { withStore } from './shared.ts';

const command: CommandDef = {
  usage: '[OPTIONS] file|- [REPOSITORY[:TAG]]',
  summary: 'Import the contents from a tarball to create a filesystem image',
  args: { min: 1, max: 2 },
  flags: [
    {
      name: 'change',
      short: 'c',
      type: 'list',
      valueName: 'list',
      description: 'Apply Dockerfile instruction to the created image',
    },
    {
      name: 'message',
      short: 'm',
      type: 'string',
      valueName: 'string',
      description: 'Set commit message for imported image',
    },
  ],
  async run(ctx, { flags, args }) {
    const [source, reference] = args as [string, string | undefined];
    if (/^[a-z]+:\/\//.test(source)) throw daemonError(`importing from a URL is not supported: ${source}`);
    const changes = Array.isArray(flags.change) ? flags.change.map(String) : [];
    const image = await withStore(ctx, (store) =>
      importRootfs(store, source === '-' ? process.stdin : source, {
        ...(reference ? { reference } : {}),
        changes,
        ...(typeof flags.message === 'string' ? { message: flags.message } : {}),
      }).catch((err: unknown) => {
        if (hasErrno(err, 'ENOENT')) throw daemonError(`open ${source}: no such file or directory`);
        throw err;
      }),
    );
    emitImageEvent(ctx, 'import', image.id, image.id);
    ctx.out(`${image.id}\n`);
    return 0;
  },
};

export default command;
