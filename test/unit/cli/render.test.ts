// The CLI's renderers against docker's own outputs: go-units sizes and durations, tabwriter
// alignment, and the Go-template subset with Go's error messages.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  alignTable,
  compileTemplate,
  formatG,
  goTimeString,
  humanDuration,
  humanSize,
  imageSize,
  renderItems,
  struct,
  TemplateError,
  timeAgo,
} from '../../../src/cli/render/index.ts';

test('sizes as docker prints them: base 1000, three (images) or four (df, prune) significant digits', () => {
  assert.equal(imageSize(0), '0B');
  assert.equal(imageSize(999), '999B');
  assert.equal(imageSize(1000), '1kB');
  assert.equal(imageSize(13256), '13.3kB');
  assert.equal(imageSize(4_260_000), '4.26MB');
  assert.equal(imageSize(4_264_999), '4.26MB');
  assert.equal(imageSize(77_800_000), '77.8MB');
  assert.equal(imageSize(187_000_000), '187MB');
  assert.equal(imageSize(1_230_000_000), '1.23GB');
  // Go's %.3g switches to exponent form when rounding reaches 1000, and docker shows it.
  assert.equal(imageSize(999_900), '1e+03kB');
  assert.equal(humanSize(16_430_000), '16.43MB');
  assert.equal(humanSize(1057), '1.057kB');
  assert.equal(humanSize(11_630_000), '11.63MB');
  assert.equal(formatG(0.5, 3), '0.5');
  assert.equal(formatG(123.456, 3), '123');
});

test('durations as units.HumanDuration', () => {
  const s = 1000;
  const h = 3600 * s;
  assert.equal(humanDuration(500), 'Less than a second');
  assert.equal(humanDuration(1 * s), '1 second');
  assert.equal(humanDuration(59 * s), '59 seconds');
  assert.equal(humanDuration(60 * s), 'About a minute');
  assert.equal(humanDuration(119 * s), 'About a minute');
  assert.equal(humanDuration(120 * s), '2 minutes');
  assert.equal(humanDuration(59 * 60 * s), '59 minutes');
  assert.equal(humanDuration(60 * 60 * s), 'About an hour');
  assert.equal(humanDuration(89 * 60 * s), 'About an hour');
  assert.equal(humanDuration(2 * h), '2 hours');
  assert.equal(humanDuration(47 * h), '47 hours');
  assert.equal(humanDuration(48 * h), '2 days');
  assert.equal(humanDuration(13 * 24 * h), '13 days');
  assert.equal(humanDuration(14 * 24 * h), '2 weeks');
  assert.equal(humanDuration(60 * 24 * h), '2 months');
  assert.equal(humanDuration(730 * 24 * h), '2 years');
  const now = Date.parse('2026-11-23T12:00:00Z');
  assert.equal(timeAgo('2026-11-23T10:00:00Z', now), '2 hours ago');
  assert.equal(timeAgo(undefined, now), 'N/A');
  assert.equal(goTimeString('2026-11-23T10:00:00.123456Z'), '2026-11-23 10:00:00 +0000 UTC');
});

test('tables are aligned as tabwriter(minwidth 10, padding 3); the last column is not padded', () => {
  assert.equal(
    alignTable([
      'REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE',
      'hello-world\tlatest\tfeb5d9fea6a5\t2 years ago\t13.3kB',
    ]),
    'REPOSITORY    TAG       IMAGE ID       CREATED       SIZE\n' +
      'hello-world   latest    feb5d9fea6a5   2 years ago   13.3kB\n',
  );
  // Width counts characters, not bytes.
  assert.equal(alignTable(['a…b\tx', 'c\ty']), 'a…b       x\nc         y\n');
});

test('templates: fields, nested fields, functions, pipes, range, if/else, with, trimming', () => {
  const data = struct('T', {
    Name: 'busybox',
    Tags: ['1.36', 'latest'],
    Labels: { b: '2', a: '1' },
    Config: struct('C', { Cmd: ['sh'], Empty: '' }),
    Size: 42,
  });
  const run = (src: string) => compileTemplate(src).execute(data);
  assert.equal(run('{{.Name}}:{{.Size}}'), 'busybox:42');
  assert.equal(run('{{.Config.Cmd}}'), '[sh]');
  assert.equal(run('{{json .Config}}'), '{"Cmd":["sh"],"Empty":""}');
  assert.equal(run('{{.Tags | json}}'), '["1.36","latest"]');
  assert.equal(run('{{join .Tags ", "}}'), '1.36, latest');
  assert.equal(run('{{index .Labels "a"}}'), '1');
  assert.equal(run('{{.Labels}}'), 'map[a:1 b:2]');
  assert.equal(run('{{.Labels.missing}}'), '<no value>');
  assert.equal(run('{{range .Tags}}[{{.}}]{{end}}'), '[1.36][latest]');
  assert.equal(run('{{if .Config.Empty}}yes{{else}}no{{end}}'), 'no');
  assert.equal(run('{{with .Config}}{{.Cmd}}{{end}}'), '[sh]');
  assert.equal(run('a  {{- .Name -}}  b'), 'abusybox b'.replace(' b', 'b'));
  assert.equal(run('{{upper .Name | lower}}'), 'busybox');
  assert.equal(run('{{printf "%s=%d" .Name .Size}}'), 'busybox=42');
  assert.equal(run('{{len .Tags}}'), '2');
  assert.equal(run(`{{json "<&>"}}`), '"<&>"');
});

test("template errors read like Go's and say whether parsing or execution failed", () => {
  const data = struct('*formatter.imageContext', { ID: 'x' });
  const fail = (src: string) => {
    try {
      compileTemplate(src).execute(data);
    } catch (err) {
      assert.ok(err instanceof TemplateError);
      return { message: err.message, parse: err.parse };
    }
    assert.fail(`${src} did not fail`);
  };
  assert.deepEqual(fail('{{.Foo}}'), {
    message:
      'template: :1:2: executing "" at <.Foo>: can\'t evaluate field Foo in type *formatter.imageContext',
    parse: false,
  });
  assert.deepEqual(fail('a\nbc {{.Foo}}'), {
    message:
      'template: :2:5: executing "" at <.Foo>: can\'t evaluate field Foo in type *formatter.imageContext',
    parse: false,
  });
  assert.deepEqual(fail('{{.ID'), { message: 'template: :1: unclosed action', parse: true });
  assert.deepEqual(fail('{{frob .ID}}'), {
    message: 'template: :1: function "frob" not defined',
    parse: true,
  });
  assert.deepEqual(fail('{{if .ID}}x'), { message: 'template: :1: unexpected EOF', parse: true });
  assert.deepEqual(fail('{{end}}'), { message: 'template: :1: unexpected {{end}}', parse: true });
});

test('renderItems: table prefix with headers and tabs, raw templates, json, \\t escapes', () => {
  const items = [
    struct('R', { Repository: 'busybox', Tag: 'latest' }),
    struct('R', { Repository: 'alpine', Tag: '3' }),
  ];
  const headers = { Repository: 'REPOSITORY', Tag: 'TAG' };
  const defaultFormat = 'table {{.Repository}}\t{{.Tag}}';
  assert.equal(
    renderItems(items, { format: '', defaultFormat, headers }),
    'REPOSITORY   TAG\nbusybox      latest\nalpine       3\n',
  );
  assert.equal(
    renderItems(items, { format: 'table {{.Tag}}\\t{{.Repository}}', defaultFormat, headers }),
    'TAG       REPOSITORY\nlatest    busybox\n3         alpine\n',
  );
  assert.equal(
    renderItems(items, { format: '{{.Repository}}\\t{{.Tag}}', defaultFormat, headers }),
    'busybox\tlatest\nalpine\t3\n',
  );
  assert.equal(
    renderItems(items, { format: 'json', defaultFormat, headers }),
    '{"Repository":"busybox","Tag":"latest"}\n{"Repository":"alpine","Tag":"3"}\n',
  );
  assert.equal(renderItems([], { format: '', defaultFormat, headers }), 'REPOSITORY   TAG\n');
});
