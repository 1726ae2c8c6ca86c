/**
 * `skiff login [-u USER] [-p PASS | --password-stdin] [SERVER]`: checks the credentials against the
 * registry, then writes them to the docker config file's `auths` (shared with the docker CLI).
 */
import { SkiffError } from '../../../common/index.ts';
import { checkLogin, loginDomain, saveLogin } from '../../../image/index.ts';
import { type CommandDef, daemonError, EXIT_FAILURE, StatusError } from '../../command.ts';

const command: CommandDef = {
  usage: '[OPTIONS] [SERVER]',
  summary: 'Log in to a registry',
  args: { min: 0, max: 1 },
  flags: [
    { name: 'username', short: 'u', type: 'string', valueName: 'string', description: 'Username' },
    { name: 'password', short: 'p', type: 'string', valueName: 'string', description: 'Password' },
    { name: 'password-stdin', type: 'bool', description: 'Take the password from stdin' },
  ],
  async run(ctx, { args, flags }) {
    const fromStdin = flags['password-stdin'] === true;
    let username = typeof flags.username === 'string' ? flags.username : undefined;
    let password = typeof flags.password === 'string' ? flags.password : undefined;
    if (password !== undefined) {
      ctx.err('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
      if (fromStdin)
        throw new StatusError('--password and --password-stdin are mutually exclusive', EXIT_FAILURE);
    }
    if (fromStdin) {
      if (!username) throw new StatusError('Must provide --username with --password-stdin', EXIT_FAILURE);
      password = (await ctx.readLine()).replace(/[\r\n]+$/, '');
    }
    let domain: string;
    try {
      domain = loginDomain(args[0]);
    } catch (err) {
      throw new StatusError((err as Error).message, EXIT_FAILURE);
    }
    if (!username) {
      ctx.out('Username: ');
      username = (await ctx.readLine()).replace(/[\r\n]+$/, '');
    }
    if (password === undefined) {
      ctx.out('Password: ');
      password = (await ctx.readLine()).replace(/[\r\n]+$/, '');
    }
    if (!username) throw new StatusError('Error: Non-null Username Required', EXIT_FAILURE);
    if (!password) throw new StatusError('Error: Password Required', EXIT_FAILURE);
    try {
      await checkLogin(domain, { username, password });
      await saveLogin(domain, { username, password });
    } catch (err) {
      if (err instanceof SkiffError) throw daemonError(err.message);
      throw err;
    }
    ctx.out('Login Succeeded\n');
    return 0;
  },
};

export default command;
