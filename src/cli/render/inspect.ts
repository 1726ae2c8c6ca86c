/** What every `inspect` verb prints: docker's indented JSON array, or a template once per object. */
import type { FlagSpec } from '../flags.ts';
import { expandEscapes } from './format.ts';
import { compileTemplate, type Template } from './template.ts';

export const INSPECT_FORMAT_FLAG: FlagSpec = {
  name: 'format',
  short: 'f',
  type: 'string',
  description:
    "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template",
};

/** The --format template, or undefined for docker's JSON (no format, or `json`). */
export function inspectTemplate(format: unknown): Template | undefined {
  const text = String(format ?? '');
  return text && text !== 'json' ? compileTemplate(expandEscapes(text)) : undefined;
}

/** The text docker prints for the inspected objects. */
export function inspectOutput(found: readonly unknown[], template: Template | undefined): string {
  if (template) return found.map((item) => `${template.execute(item)}\n`).join('');
  return `${indentJson(found)}\n`;
}

/** json.MarshalIndent(v, "", "    ") with Go's HTML escaping, as docker prints inspect output. */
export function indentJson(value: unknown): string {
  if (Array.isArray(value) && value.length === 0) return '[]';
  return JSON.stringify(value, null, 4)
    .replaceAll('<', '\\u003c')
    .replaceAll('>', '\\u003e')
    .replaceAll('&', '\\u0026');
}
