/**
 * A small subset of Go's text/template, enough for the `--format` strings people use with docker:
 * `{{.Field}}`, `{{.A.B}}`, `{{json .}}`, `{{.X | json}}`, `{{join .RepoTags ", "}}`,
 * `{{index .Labels "k"}}`, `{{range .RepoTags}}…{{end}}`, `{{if .X}}…{{else}}…{{end}}`, `{{with}}`,
 * `{{- … -}}` trimming. Errors read like Go's, because users search for those messages.
 *
 * Data are plain values. An object made by struct() behaves as a Go struct (an unknown field is an
 * error naming the type); any other object behaves as a map (a missing key is `<no value>`).
 */

const TYPE_NAME = Symbol('goType');

export class TemplateError extends Error {
  /** True for parse errors (docker prints "template parsing error: …" and exits 64). */
  readonly parse: boolean;
  constructor(message: string, parse: boolean) {
    super(message);
    this.parse = parse;
  }
}

/** Marks obj as a Go struct named typeName (unknown fields are errors). */
export function struct<T extends object>(typeName: string, obj: T): T {
  Object.defineProperty(obj, TYPE_NAME, { value: typeName, enumerable: false });
  return obj;
}

type Operand =
  | { kind: 'field'; pos: number; path: string[]; text: string }
  | { kind: 'dot'; pos: number }
  | { kind: 'string'; pos: number; value: string }
  | { kind: 'number'; pos: number; value: number }
  | { kind: 'bool'; pos: number; value: boolean }
  | { kind: 'func'; pos: number; name: string }
  | { kind: 'pipe'; pos: number; pipe: Command[] };
type Command = Operand[];
type Pipeline = Command[];

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pos: number; pipe: Pipeline }
  | { kind: 'if' | 'with' | 'range'; pos: number; pipe: Pipeline; body: Node[]; alt: Node[] };

type Func = (...args: unknown[]) => unknown;

const FUNCS: Record<string, Func> = {
  json: (v) => goJson(v),
  upper: (s) => String(s).toUpperCase(),
  lower: (s) => String(s).toLowerCase(),
  title: (s) => String(s).replace(/(^|\s)(\S)/g, (_m, sp: string, c: string) => sp + c.toUpperCase()),
  join: (list, sep) => (Array.isArray(list) ? list.map(formatValue).join(String(sep)) : formatValue(list)),
  split: (s, sep) => String(s).split(String(sep)),
  len: (v) => (Array.isArray(v) || typeof v === 'string' ? v.length : Object.keys(Object(v)).length),
  index: (v, ...keys) => keys.reduce((acc: unknown, k) => (acc as Record<string, unknown>)?.[String(k)], v),
  truncate: (s, n) => [...String(s)].slice(0, Number(n)).join(''),
  println: (...args) => `${args.map(formatValue).join(' ')}\n`,
  print: (...args) => args.map(formatValue).join(''),
  printf: (fmt, ...args) => {
    let i = 0;
    return String(fmt).replace(/%[svdq%]/g, (m) =>
      m === '%%' ? '%' : m === '%q' ? JSON.stringify(formatValue(args[i++])) : formatValue(args[i++]),
    );
  },
  eq: (a, b) => a === b,
  ne: (a, b) => a !== b,
  not: (v) => !truthy(v),
};

/** encoding/json without HTML escaping, as docker's `json` template function. */
function goJson(v: unknown): string {
  return JSON.stringify(v === undefined ? null : v) ?? 'null';
}

/** fmt's %v of a value. */
export function formatValue(v: unknown): string {
  if (v === undefined || v === null) return '<no value>';
  if (Array.isArray(v)) return `[${v.map(formatValue).join(' ')}]`;
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>);
    if ((v as Record<symbol, unknown>)[TYPE_NAME])
      return `{${entries.map(([, x]) => formatValue(x)).join(' ')}}`;
    return `map[${entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, x]) => `${k}:${formatValue(x)}`)
      .join(' ')}]`;
  }
  return String(v);
}

function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

// ---------------------------------------------------------------------------------------------------
// Parsing

const lineOf = (src: string, pos: number) => 1 + (src.slice(0, pos).match(/\n/g)?.length ?? 0);

function parseError(src: string, pos: number, message: string): TemplateError {
  return new TemplateError(`template: :${lineOf(src, pos)}: ${message}`, true);
}

/** Splits the source into text and actions (with Go's `{{-` / `-}}` whitespace trimming). */
function lex(
  src: string,
): Array<{ kind: 'text'; text: string } | { kind: 'action'; pos: number; body: string }> {
  const out: Array<{ kind: 'text'; text: string } | { kind: 'action'; pos: number; body: string }> = [];
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = src.slice(i, open === -1 ? src.length : open);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (open === -1) {
      if (text) out.push({ kind: 'text', text });
      break;
    }
    let start = open + 2;
    if (/^- /.test(src.slice(start, start + 2))) {
      text = text.replace(/\s+$/, '');
      start += 2;
    }
    if (text) out.push({ kind: 'text', text });
    const close = findClose(src, start);
    if (close === -1) throw parseError(src, open, 'unclosed action');
    let end = close;
    trimNext = false;
    if (src.slice(close - 2, close) === ' -') {
      end = close - 2;
      trimNext = true;
    }
    out.push({ kind: 'action', pos: start, body: src.slice(start, end) });
    i = close + 2;
  }
  return out;
}

/** The index of the `}}` closing an action, skipping quoted strings. */
function findClose(src: string, from: number): number {
  for (let i = from; i < src.length; i++) {
    const c = src[i];
    if (c === '"' || c === '`') {
      const quote = c;
      for (i++; i < src.length && src[i] !== quote; i++) if (quote === '"' && src[i] === '\\') i++;
      continue;
    }
    if (c === '}' && src[i + 1] === '}') return i;
  }
  return -1;
}

/** Parses one action's pipeline: commands separated by `|`, each a list of operands. */
function parsePipeline(src: string, body: string, base: number): Pipeline {
  let i = 0;
  const skip = () => {
    while (i < body.length && /\s/.test(body[i]!)) i++;
  };
  const parseCommands = (closing: string | undefined): Pipeline => {
    const pipe: Pipeline = [];
    let cmd: Command = [];
    for (;;) {
      skip();
      if (i >= body.length || (closing && body[i] === closing)) break;
      const c = body[i]!;
      const pos = base + i;
      if (c === '|') {
        if (cmd.length === 0) throw parseError(src, pos, 'missing command before |');
        pipe.push(cmd);
        cmd = [];
        i++;
        continue;
      }
      if (c === '(') {
        i++;
        const inner = parseCommands(')');
        if (body[i] !== ')') throw parseError(src, pos, 'unclosed left paren');
        i++;
        cmd.push({ kind: 'pipe', pos, pipe: inner });
        continue;
      }
      if (c === '"' || c === '`') {
        let j = i + 1;
        while (j < body.length && body[j] !== c) j += c === '"' && body[j] === '\\' ? 2 : 1;
        if (j >= body.length) throw parseError(src, pos, 'unterminated quoted string');
        const raw = body.slice(i, j + 1);
        i = j + 1;
        cmd.push({ kind: 'string', pos, value: c === '"' ? (JSON.parse(raw) as string) : raw.slice(1, -1) });
        continue;
      }
      const word = /^[^\s|()]+/.exec(body.slice(i))![0];
      i += word.length;
      if (word === '.') cmd.push({ kind: 'dot', pos });
      else if (word.startsWith('.')) {
        const path = word.slice(1).split('.');
        if (path.some((p) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(p)))
          throw parseError(src, pos, `bad character in field name ${JSON.stringify(word)}`);
        cmd.push({ kind: 'field', pos, path, text: word });
      } else if (/^-?\d+(\.\d+)?$/.test(word)) cmd.push({ kind: 'number', pos, value: Number(word) });
      else if (word === 'true' || word === 'false') cmd.push({ kind: 'bool', pos, value: word === 'true' });
      else if (word in FUNCS) cmd.push({ kind: 'func', pos, name: word });
      else if (/^[A-Za-z_]\w*$/.test(word)) throw parseError(src, pos, `function "${word}" not defined`);
      else throw parseError(src, pos, `unexpected "${word}" in command`);
    }
    if (cmd.length > 0) pipe.push(cmd);
    else if (pipe.length > 0) throw parseError(src, base + i, 'missing command after |');
    return pipe;
  };
  const pipe = parseCommands(undefined);
  if (pipe.length === 0) throw parseError(src, base, 'missing value for command');
  return pipe;
}

/** Builds the node tree, pairing if/with/range with their else and end. */
function parse(src: string): Node[] {
  const tokens = lex(src);
  let t = 0;
  const block = (inside: string | undefined): { nodes: Node[]; stop: 'end' | 'else' | 'eof' } => {
    const nodes: Node[] = [];
    while (t < tokens.length) {
      const tok = tokens[t++]!;
      if (tok.kind === 'text') {
        nodes.push(tok);
        continue;
      }
      const body = tok.body.trim();
      const lead = tok.pos + tok.body.indexOf(body);
      if (body.startsWith('/*')) continue;
      const keyword = /^(if|with|range|else|end)\b/.exec(body)?.[1];
      if (keyword === 'end' || keyword === 'else') {
        if (!inside) throw parseError(src, lead, `unexpected {{${keyword}}}`);
        return { nodes, stop: keyword };
      }
      if (keyword) {
        const rest = body.slice(keyword.length);
        const pipe = parsePipeline(src, rest, lead + keyword.length);
        const inner = block(keyword);
        let alt: Node[] = [];
        if (inner.stop === 'else') {
          const other = block(keyword);
          if (other.stop !== 'end') throw parseError(src, lead, `unexpected EOF`);
          alt = other.nodes;
        } else if (inner.stop !== 'end') throw parseError(src, lead, 'unexpected EOF');
        nodes.push({ kind: keyword as 'if' | 'with' | 'range', pos: lead, pipe, body: inner.nodes, alt });
        continue;
      }
      nodes.push({ kind: 'action', pos: lead, pipe: parsePipeline(src, body, lead) });
    }
    return { nodes, stop: 'eof' };
  };
  const { nodes } = block(undefined);
  return nodes;
}

// ---------------------------------------------------------------------------------------------------
// Execution

export interface Template {
  execute(data: unknown): string;
}

/** Parses a template; TemplateError (parse = true) on bad syntax. */
export function compileTemplate(src: string): Template {
  const nodes = parse(src);
  const execError = (pos: number, context: string, message: string) => {
    const before = src.slice(0, pos);
    const nl = before.lastIndexOf('\n');
    const col = nl === -1 ? pos : pos - nl - 1;
    return new TemplateError(
      `template: :${lineOf(src, pos)}:${col}: executing "" at <${context}>: ${message}`,
      false,
    );
  };

  const field = (op: Extract<Operand, { kind: 'field' }>, dot: unknown): unknown => {
    let value = dot;
    for (const name of op.path) {
      if (value === undefined || value === null) return undefined;
      if (typeof value !== 'object')
        throw execError(op.pos, op.text, `can't evaluate field ${name} in type ${typeof value}`);
      const typeName = (value as Record<symbol, unknown>)[TYPE_NAME];
      if (typeName !== undefined && !Object.hasOwn(value, name))
        throw execError(op.pos, op.text, `can't evaluate field ${name} in type ${String(typeName)}`);
      value = (value as Record<string, unknown>)[name];
    }
    return value;
  };

  const operand = (op: Operand, dot: unknown): unknown => {
    switch (op.kind) {
      case 'dot':
        return dot;
      case 'field':
        return field(op, dot);
      case 'string':
      case 'number':
      case 'bool':
        return op.value;
      case 'pipe':
        return pipeline(op.pipe, dot);
      case 'func':
        return call(op, [], dot);
    }
  };

  const call = (op: Extract<Operand, { kind: 'func' }>, args: unknown[], _dot: unknown): unknown => {
    try {
      return FUNCS[op.name]!(...args);
    } catch (err) {
      throw execError(op.pos, op.name, `error calling ${op.name}: ${(err as Error).message}`);
    }
  };

  const pipeline = (pipe: Pipeline, dot: unknown): unknown => {
    let result: unknown;
    pipe.forEach((cmd, n) => {
      const [head, ...rest] = cmd;
      const piped = n > 0 ? [result] : [];
      if (head!.kind === 'func') result = call(head!, [...rest.map((o) => operand(o, dot)), ...piped], dot);
      else {
        const value = operand(head!, dot);
        // A method of the data (docker's `{{.Label "key"}}`): called with the arguments.
        if (head!.kind === 'field' && typeof value === 'function')
          result = (value as Func)(...rest.map((o) => operand(o, dot)), ...piped);
        else if (rest.length > 0 || piped.length > 0)
          throw execError(
            head!.pos,
            describe(head!),
            `can't give argument to non-function ${describe(head!)}`,
          );
        else result = value;
      }
    });
    return result;
  };

  const run = (list: Node[], dot: unknown, out: string[]): void => {
    for (const node of list) {
      if (node.kind === 'text') out.push(node.text);
      else if (node.kind === 'action') out.push(formatValue(pipeline(node.pipe, dot)));
      else {
        const value = pipeline(node.pipe, dot);
        if (node.kind === 'if') run(truthy(value) ? node.body : node.alt, dot, out);
        else if (node.kind === 'with')
          run(truthy(value) ? node.body : node.alt, truthy(value) ? value : dot, out);
        else {
          const items = Array.isArray(value)
            ? value
            : value && typeof value === 'object'
              ? Object.keys(value)
                  .sort()
                  .map((k) => (value as Record<string, unknown>)[k])
              : [];
          if (items.length === 0) run(node.alt, dot, out);
          for (const item of items) run(node.body, item, out);
        }
      }
    }
  };

  return {
    execute(data: unknown): string {
      const out: string[] = [];
      run(nodes, data, out);
      return out.join('');
    },
  };
}

function describe(op: Operand): string {
  switch (op.kind) {
    case 'field':
      return op.text;
    case 'dot':
      return '.';
    case 'string':
      return JSON.stringify(op.value);
    case 'func':
      return op.name;
    case 'pipe':
      return '(…)';
    default:
      return String(op.value);
  }
}
