/**
 * Go's text/tabwriter as docker's formatter configures it (minwidth 10, padding 3, spaces): each
 * tab-terminated cell is padded to its column's width; the text after a line's last tab is not.
 */
const MIN_WIDTH = 10;
const PADDING = 3;

export function alignTable(lines: readonly string[]): string {
  const rows = lines.map((line) => line.split('\t'));
  const widths: number[] = [];
  for (const cells of rows)
    cells.slice(0, -1).forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, Math.max(MIN_WIDTH, [...cell].length + PADDING));
    });
  return rows
    .map((cells) =>
      cells
        .map((cell, i) =>
          i < cells.length - 1 ? cell.padEnd(widths[i]! + cell.length - [...cell].length) : cell,
        )
        .join(''),
    )
    .map((line) => `${line}\n`)
    .join('');
}
