/**
 * `skiff top CONTAINER [ps OPTIONS]`: the container's processes as ps(1) shows them, printed as the
 * docker CLI does (its tabwriter: minimum width 20, padding 3).
 */
import type { CommandDef } from '../../command.ts';
import { containerError, withEngine } from './shared.ts';

const MIN_WIDTH = 20;
const PADDING = 3;

/** Go's tabwriter with docker top's settings: every cell but a row's last padded to its column. */
export function topTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const cells of rows)
    cells.slice(0, -1).forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, MIN_WIDTH, [...cell].length + PADDING);
    });
  return rows
    .map(
      (cells) =>
        `${cells.map((cell, i) => (i < cells.length - 1 ? padTo(cell, widths[i]!) : cell)).join('')}\n`,
    )
    .join('');
}

const padTo = (cell: string, width: number) => cell + ' '.repeat(Math.max(0, width - [...cell].length));

const command: CommandDef = {
  usage: 'CONTAINER [ps OPTIONS]',
  summary: 'Display the running processes of a container',
  args: { min: 1 },
  // Everything after the container is ps's (`top c -o pid,comm`).
  interspersed: false,
  flags: [],
  async run(ctx, { args }) {
    const [ref, ...psArgs] = args as [string, ...string[]];
    const result = await withEngine(ctx, (engine) => engine.top(ref, psArgs)).catch((err: unknown) => {
      throw containerError(err, ref);
    });
    ctx.out(topTable([result.Titles, ...result.Processes]));
    return 0;
  },
};

export default command;
