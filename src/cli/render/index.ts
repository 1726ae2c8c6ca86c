// The CLI's output helpers: tables as docker aligns them, docker's units, `--format` templates.
export { expandEscapes, type FormatOptions, renderItems } from './format.ts';
export { INSPECT_FORMAT_FLAG, indentJson, inspectOutput, inspectTemplate } from './inspect.ts';
export { alignTable } from './table.ts';
export { compileTemplate, formatValue, struct, type Template, TemplateError } from './template.ts';
export {
  formatG,
  goTimeString,
  humanDuration,
  humanSize,
  humanSizeWithPrecision,
  imageSize,
  timeAgo,
} from './units.ts';
