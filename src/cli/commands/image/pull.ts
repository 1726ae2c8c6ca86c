/**
 * `skiff pull NAME[:TAG|@DIGEST]` / `skiff image pull`: docker's progress, redrawn in place when stdout
 * is a terminal, one line per state change when it is not; `--progress` (hidden, for tests and the
 * API's form) forces `tty`, `plain` or `json` (docker's JSONMessage lines).
 * `--all-tags NAME` pulls every tag of the repository, one after the other, as docker does.
 */
import { SkiffError } from '../../../common/index.ts';
import {
  familiarName,
  formatReference,
  hostPlatform,
  ImageStore,
  listTags,
  type Platform,
  type ProgressMode,
  PullProgressWriter,
  parseDockerRef,
  parseNormalizedNamed,
  pullImage,
  pullSummaryLines,
  referenceName,
} from '../../../image/index.ts';
import { type CommandDef, type Context, daemonError, EXIT_FAILURE, StatusError } from '../../command.ts';
import { currentIo } from '../../io.ts';
import { emitImageEvent } from './events.ts';
import { familiar } from './shared.ts';

/** `busybox:latest` -> `busybox`, `x@sha256:…` -> `x` (docker's FamiliarName). */
function repositoryOf(ref: string): string {
  const at = ref.indexOf('@');
  const name = at >= 0 ? ref.slice(0, at) : ref;
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
}

/** `linux/amd64`, `linux/arm64/v8`, `amd64` (os defaults to linux). */
export function parsePlatform(text: string): Platform {
  const parts = text.split('/');
  if (parts.length === 1) parts.unshift('linux');
  const [os, architecture, variant] = parts;
  if (!os || !architecture || parts.length > 3)
    throw new StatusError(`invalid platform "${text}": expected os/arch[/variant]`, EXIT_FAILURE);
  return variant ? { os, architecture, variant } : { os, architecture };
}

function progressMode(text: string): ProgressMode {
  if (text === 'auto') return currentIo().isTTY(1) ? 'terminal' : 'plain';
  if (text === 'tty') return 'terminal';
  if (text === 'plain' || text === 'json') return text;
  throw new StatusError(`invalid --progress "${text}": expected auto, tty, plain or json`, EXIT_FAILURE);
}

const command: CommandDef = {
  usage: '[OPTIONS] NAME[:TAG|@DIGEST]',
  summary: 'Download an image from a registry',
  args: { min: 1, max: 1 },
  flags: [
    {
      name: 'all-tags',
      short: 'a',
      type: 'bool',
      description: 'Download all tagged images in the repository',
    },
    { name: 'quiet', short: 'q', type: 'bool', description: 'Suppress verbose output' },
    {
      name: 'platform',
      type: 'string',
      valueName: 'string',
      description: 'Set platform if server is multi-platform capable',
    },
    {
      name: 'progress',
      type: 'string',
      valueName: 'string',
      description: 'Progress output: auto, tty, plain or json',
      hidden: true,
    },
  ],
  async run(ctx, { args, flags }) {
    const input = args[0]!;
    try {
      parseDockerRef(input);
    } catch {
      throw new StatusError(`invalid reference format: ${input}`, EXIT_FAILURE);
    }
    const quiet = flags.quiet === true;
    const platform = typeof flags.platform === 'string' ? parsePlatform(flags.platform) : hostPlatform();
    const allTags = flags['all-tags'] === true;
    const named = parseNormalizedNamed(input);
    if (allTags && (named.tag !== undefined || named.digest !== undefined))
      throw new StatusError("tag can't be used with --all-tags/-a", EXIT_FAILURE);
    const mode = progressMode(typeof flags.progress === 'string' ? flags.progress : 'auto');
    const progress = new PullProgressWriter(ctx.out, mode, {
      columns: currentIo().windowSize()?.columns || undefined,
    });
    const store = await ImageStore.open({ root: ctx.globals.root, platform });
    try {
      if (allTags) return await pullAllTags(ctx, store, input, quiet, progress);
      const result = await pullImage(store, input, {
        onStatus: quiet ? undefined : (s) => progress.status(s),
      });
      progress.close();
      // moby: LogImageEvent(FamiliarString(ref), FamiliarName(ref), pull).
      const shown = familiar(result.reference);
      emitImageEvent(ctx, 'pull', shown, repositoryOf(shown));
      if (mode === 'json' && !quiet) {
        for (const line of pullSummaryLines(result).trimEnd().split('\n')) progress.status({ status: line });
        return 0;
      }
      if (!quiet) ctx.out(pullSummaryLines(result));
      ctx.out(`${result.reference}\n`);
      return 0;
    } catch (err) {
      progress.close();
      if (err instanceof SkiffError) throw daemonError(err.message);
      throw err;
    } finally {
      store.close();
    }
  },
};

export default command;

/**
 * Every tag of the repository, as docker's daemon pulls them: each tag's lines and `Digest:`, then
 * one `Status:` for the repository, then its name.
 */
async function pullAllTags(
  ctx: Context,
  store: ImageStore,
  input: string,
  quiet: boolean,
  progress: PullProgressWriter,
) {
  const named = parseNormalizedNamed(input);
  const tags = await listTags(named);
  let downloaded = false;
  for (const tag of tags) {
    const result = await pullImage(store, formatReference({ ...named, tag }), {
      onStatus: quiet ? undefined : (s) => progress.status(s),
    });
    progress.close();
    downloaded ||= !result.upToDate;
    if (!quiet) ctx.out(`Digest: ${result.digest}\n`);
  }
  if (!quiet)
    ctx.out(
      `Status: ${downloaded ? 'Downloaded newer image for' : 'Image is up to date for'} ${familiarName(named)}\n`,
    );
  ctx.out(`${referenceName(named)}\n`);
  return 0;
}
