/**
 * `skiff system boot`: what the host's init system runs once at boot (README.md has a systemd unit).
 * Records what the reboot ended, then starts the containers whose restart policy says they come back
 * (`always`, and `unless-stopped` unless the user stopped them), printing each one's name.
 */
import type { CommandDef } from '../../command.ts';
import { containerError, withEngine } from '../container/shared.ts';

const command: CommandDef = {
  usage: '',
  summary: 'Start the containers whose restart policy brings them back after a reboot',
  args: { min: 0, max: 0 },
  flags: [],
  async run(ctx) {
    const { started, failed } = await withEngine(ctx, (engine) => engine.boot());
    for (const c of started) ctx.out(`${c.name}\n`);
    for (const { container, error } of failed) ctx.err(`${containerError(error, container.name).message}\n`);
    return failed.length > 0 ? 1 : 0;
  },
};

export default command;
