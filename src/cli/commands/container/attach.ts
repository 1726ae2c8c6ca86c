/** `skiff attach CONTAINER`: this terminal to a running container's stdio, through its monitor. */
import { AttachClient, shimDir } from '../../../engine/index.ts';
import { type CommandDef, daemonError } from '../../command.ts';
import { runSession } from './attach-session.ts';
import { withEngine } from './shared.ts';

const command: CommandDef = {
  usage: '[OPTIONS] CONTAINER',
  summary: 'Attach local standard input, output, and error streams to a running container',
  args: { min: 1, max: 1 },
  flags: [
    { name: 'no-stdin', type: 'bool', description: 'Do not attach STDIN' },
    {
      name: 'sig-proxy',
      type: 'bool',
      description: 'Proxy all received signals to the process',
      defaultText: 'true',
    },
  ],
  async run(ctx, { flags, args }) {
    return withEngine(ctx, async (engine) => {
      const c = await engine.inspect(args[0]!);
      if (c.state !== 'running')
        throw daemonError('You cannot attach to a stopped container, start it first');
      const client = await AttachClient.connect(shimDir(engine.paths, c.id));
      engine.emitContainer(c, 'attach');
      try {
        const exit = await runSession(client, engine, c.id, {
          tty: c.config.Tty ?? false,
          stdin: !flags['no-stdin'] && (c.config.OpenStdin ?? false),
          sigProxy: flags['sig-proxy'] !== false,
        });
        return exit.exitCode;
      } finally {
        client.close();
      }
    });
  },
};

export default command;
