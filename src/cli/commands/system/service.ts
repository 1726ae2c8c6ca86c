/**
 * `skiff system service` (podman's verb): stays resident and runs the commands of `skiff` clients
 * of this store in-process (src/cli/service/), so that they skip Node's start-up and run warm.
 * Optional: without it every command runs in its own process, as before.
 */

import type { CommandDef } from '../../command.ts';
import { StatusError } from '../../command.ts';
import { currentIo } from '../../io.ts';
import { Service } from '../../service/server.ts';

const command: CommandDef = {
  usage: '[OPTIONS]',
  summary: 'Run the resident service that runs skiff commands without starting a process each',
  args: { min: 0, max: 0 },
  flags: [
    {
      name: 'time',
      short: 't',
      type: 'string',
      description: 'Time until the service exits when idle, in seconds (0: never)',
      defaultText: '0',
    },
  ],
  async run(ctx, { flags }) {
    const idleSeconds = Number(flags.time ?? 0);
    if (!Number.isInteger(idleSeconds) || idleSeconds < 0)
      throw new StatusError(`invalid --time ${String(flags.time)}: a whole number of seconds`, 125);
    // The service's own terminal, held here: ctx.err inside a client's command writes to that client.
    const own = currentIo();
    let service: Service;
    try {
      service = await Service.listen({
        globals: ctx.globals,
        idleSeconds,
        log: (line) => own.write(2, `${line}\n`),
      });
    } catch (err) {
      throw new StatusError(`cannot listen on the service socket: ${(err as Error).message}`, 1);
    }
    ctx.err(`skiff service listening on ${ctx.globals.runroot}/skiff.sock\n`);
    // A command that fails outside its own promise would end every client's command with the
    // process: it is reported here instead, as that command's own process would have reported it.
    const onStray = (err: unknown) =>
      own.write(
        2,
        `a command failed outside its session: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
    process.on('uncaughtException', onStray);
    process.on('unhandledRejection', onStray);
    const stop = () => service.close();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    await service.closed;
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    process.off('uncaughtException', onStray);
    process.off('unhandledRejection', onStray);
    return 0;
  },
};

export default command;
