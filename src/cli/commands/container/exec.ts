/** `skiff exec [OPTIONS] CONTAINER COMMAND [ARG...]` / `skiff container exec`. */
import { readFile } from 'node:fs/promises';
import { SkiffError } from '../../../common/index.ts';
import { type CommandDef, daemonError, StatusError } from '../../command.ts';
import type { FlagValues } from '../../flags.ts';
import { withEngine } from './shared.ts';

const command: CommandDef = {
  usage: '[OPTIONS] CONTAINER COMMAND [ARG...]',
  summary: 'Execute a command in a running container',
  args: { min: 2 },
  interspersed: false,
  flags: [
    { name: 'detach', short: 'd', type: 'bool', description: 'Detached mode: run command in the background' },
    { name: 'env', short: 'e', type: 'list', valueName: 'list', description: 'Set environment variables' },
    {
      name: 'env-file',
      type: 'list',
      valueName: 'list',
      description: 'Read in a file of environment variables',
    },
    { name: 'interactive', short: 'i', type: 'bool', description: 'Keep STDIN open even if not attached' },
    { name: 'privileged', type: 'bool', description: 'Give extended privileges to the command' },
    { name: 'tty', short: 't', type: 'bool', description: 'Allocate a pseudo-TTY' },
    {
      name: 'user',
      short: 'u',
      type: 'string',
      description: 'Username or UID (format: "<name|uid>[:<group|gid>]")',
    },
    { name: 'workdir', short: 'w', type: 'string', description: 'Working directory inside the container' },
  ],
  async run(ctx, { flags, args }) {
    const [ref, ...cmd] = args as [string, ...string[]];
    const env = await execEnv(flags);
    return withEngine(ctx, async (engine) => {
      try {
        const proc = await engine.exec(ref, {
          cmd,
          tty: Boolean(flags.tty),
          stdin: Boolean(flags.interactive),
          detach: Boolean(flags.detach),
          env,
          ...(flags.workdir ? { workdir: String(flags.workdir) } : {}),
          ...(flags.user ? { user: String(flags.user) } : {}),
          privileged: Boolean(flags.privileged),
        });
        return proc.exit ? await proc.exit : 0;
      } catch (err) {
        if (!(err instanceof SkiffError)) throw err;
        // docker's codes for a command that cannot run: 127 not found, 126 not executable.
        const errno = (err.cause as { errno?: string } | undefined)?.errno;
        const status = errno === 'ENOENT' ? 127 : errno === 'EACCES' ? 126 : 1;
        throw status === 1
          ? daemonError(err.message)
          : new StatusError(`OCI runtime exec failed: ${err.message}`, status);
      }
    });
  },
};

/** -e VAR=value, -e VAR (from this environment; dropped when unset), --env-file lines. */
async function execEnv(flags: FlagValues): Promise<string[]> {
  const lines: string[] = [];
  for (const file of (flags['env-file'] as string[] | undefined) ?? []) {
    const text = await readFile(file, 'utf8').catch(() => {
      throw new StatusError(`open ${file}: no such file or directory`, 125);
    });
    lines.push(
      ...text
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('#')),
    );
  }
  lines.push(...((flags.env as string[] | undefined) ?? []));
  return lines.flatMap((entry) => {
    if (entry.includes('=')) return [entry];
    const value = process.env[entry];
    return value === undefined ? [] : [`${entry}=${value}`];
  });
}

export default command;
