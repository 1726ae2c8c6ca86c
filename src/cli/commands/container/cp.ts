/**
 * `skiff cp`: files between a container and the host, docker's way (`CONTAINER:SRC DEST`,
 * `SRC CONTAINER:DEST`, `-` for a tar stream on stdout or stdin). As docker, the closing
 * "Successfully copied SIZE to DEST" (the tar's size) goes to a terminal only, unless -q.
 */
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { isatty } from 'node:tty';
import { type CommandDef, EXIT_FAILURE, StatusError } from '../../command.ts';
import { humanSize } from '../../render/index.ts';
import { containerError, withEngine } from './shared.ts';

/** docker's splitCpArg: `ctr:path`, unless the argument is an absolute or `./`-relative local path. */
export function splitCpArg(arg: string): { container: string; path: string } {
  if (path.isAbsolute(arg)) return { container: '', path: arg };
  const colon = arg.indexOf(':');
  if (colon < 0 || arg.startsWith('.')) return { container: '', path: arg };
  return { container: arg.slice(0, colon), path: arg.slice(colon + 1) };
}

const command: CommandDef = {
  usage: '[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tskiff cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
  summary: 'Copy files/folders between a container and the local filesystem',
  args: { min: 2, max: 2 },
  flags: [
    { name: 'archive', short: 'a', type: 'bool', description: 'Archive mode (copy all uid/gid information)' },
    { name: 'follow-link', short: 'L', type: 'bool', description: 'Always follow symbol link in SRC_PATH' },
    {
      name: 'quiet',
      short: 'q',
      type: 'bool',
      description:
        'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached',
    },
  ],
  async run(ctx, { flags, args }) {
    const src = splitCpArg(args[0]!);
    const dst = splitCpArg(args[1]!);
    if (src.container !== '' && dst.container !== '')
      throw new StatusError('copying between containers is not supported', EXIT_FAILURE);
    if (src.container === '' && dst.container === '')
      throw new StatusError('must specify at least one container source', EXIT_FAILURE);
    const options = { archive: flags.archive === true, followLink: flags['follow-link'] === true };
    const ref = src.container || dst.container;
    // docker prints its progress only to a terminal, and never for a tar stream.
    const streamed = src.path === '-' || dst.path === '-';
    const progress = flags.quiet !== true && !streamed && isatty(2);
    const copied = await withEngine(ctx, async (engine) => {
      if (src.container !== '') {
        if (src.path === '') throw new StatusError('source path cannot be empty', EXIT_FAILURE);
        // The fd's own stream, not process.stdout (which would make a pipe non-blocking).
        const dest = dst.path === '-' ? { stream: createWriteStream('', { fd: 1 }) } : { path: dst.path };
        return engine.copyFromContainer(ref, src.path, dest, options);
      }
      if (dst.path === '') throw new StatusError('destination path cannot be empty', EXIT_FAILURE);
      const source = src.path === '-' ? { stream: process.stdin } : { path: src.path };
      return engine.copyToContainer(ref, source, dst.path, options);
    }).catch((err: unknown) => {
      throw containerError(err, ref);
    });
    if (progress) ctx.err(`Successfully copied ${humanSize(copied)} to ${args[1]}\n`);
    return 0;
  },
};

export default command;
