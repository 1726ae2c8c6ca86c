/** `skiff logout [SERVER]`: removes the server's entry from the docker config file's `auths`. */
import { SkiffError } from '../../../common/index.ts';
import { authKey, loginDomain, removeLogin } from '../../../image/index.ts';
import { type CommandDef, EXIT_FAILURE, StatusError } from '../../command.ts';

const command: CommandDef = {
  usage: '[SERVER]',
  summary: 'Log out from a registry',
  args: { min: 0, max: 1 },
  flags: [],
  async run(ctx, { args }) {
    try {
      const domain = loginDomain(args[0]);
      const key = authKey(domain);
      ctx.out(`Removing login credentials for ${key}\n`);
      if (!(await removeLogin(domain))) ctx.out(`Not logged in to ${key}\n`);
      return 0;
    } catch (err) {
      if (err instanceof SkiffError) throw new StatusError(err.message, EXIT_FAILURE);
      throw err;
    }
  },
};

export default command;
