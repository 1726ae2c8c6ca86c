/**
 * docker's formatter.Context: a `--format` value (or the command's default) is either a `table …`
 * template, printed with a header and aligned by tabwriter, or a raw template, printed once per item.
 * `json` is short for `{{json .}}`. Literal `\t` and `\n` in the format become tab and newline.
 */
import { alignTable } from './table.ts';
import { compileTemplate } from './template.ts';

export interface FormatOptions {
  /** What --format said ('' when absent). */
  readonly format: string;
  /** The command's default, e.g. `table {{.Repository}}\t{{.Tag}}…`. */
  readonly defaultFormat: string;
  /**
   * Column header per field name: { Repository: 'REPOSITORY', ID: 'IMAGE ID', … }; a function for a
   * method that takes arguments (`{{.Label "k"}}`).
   */
  readonly headers: Readonly<Record<string, string | ((...args: unknown[]) => string)>>;
}

export const expandEscapes = (s: string) => s.replaceAll('\\t', '\t').replaceAll('\\n', '\n');

/** Renders items; throws TemplateError for a bad template or an unknown field. */
export function renderItems(items: readonly unknown[], options: FormatOptions): string {
  let format = options.format === '' ? options.defaultFormat : options.format;
  if (format === 'json') format = '{{json .}}';
  if (format === 'table') format = options.defaultFormat;
  const isTable = format.startsWith('table');
  const body = expandEscapes(isTable ? format.slice('table'.length).trim() : format);
  const template = compileTemplate(body);
  const lines = items.map((item) => template.execute(item));
  if (!isTable) return lines.map((line) => `${line}\n`).join('');
  const header = template.execute(headerContext(options.headers));
  return alignTable([header, ...lines]);
}

/** An object whose every field is its column header (docker executes the template on it). */
function headerContext(headers: FormatOptions['headers']): unknown {
  return new Proxy(
    {},
    {
      get: (_t, key) => (typeof key === 'string' ? (headers[key] ?? key.toUpperCase()) : undefined),
      has: () => true,
    },
  );
}
