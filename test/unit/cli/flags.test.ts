// docker's (pflag's) command-line syntax and its error messages.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlagError, type FlagSpec, flagUsages, parseFlags } from '../../../src/cli/flags.ts';

const SPECS: FlagSpec[] = [
  { name: 'all', short: 'a', type: 'bool', description: 'Show all' },
  { name: 'quiet', short: 'q', type: 'bool', description: 'Only IDs' },
  { name: 'format', type: 'string', description: 'Format' },
  { name: 'filter', short: 'f', type: 'list', description: 'Filter' },
];

test('long, short, grouped, attached and repeated flags, interspersed with arguments', () => {
  assert.deepEqual(
    parseFlags(SPECS, ['-aq', 'busybox', '--format', '{{.ID}}', '-f', 'a=1', '--filter=b=2', '-fc=3']),
    {
      flags: { all: true, quiet: true, format: '{{.ID}}', filter: ['a=1', 'b=2', 'c=3'] },
      args: ['busybox'],
    },
  );
  assert.deepEqual(parseFlags(SPECS, ['--all=false', '-q=true', 'x']), {
    flags: { all: false, quiet: true },
    args: ['x'],
  });
  assert.deepEqual(parseFlags(SPECS, ['x', '--', '-a', '--format']), {
    flags: {},
    args: ['x', '-a', '--format'],
  });
  assert.deepEqual(parseFlags(SPECS, ['-']), { flags: {}, args: ['-'] });
  assert.deepEqual(parseFlags(SPECS, ['--format=']), { flags: { format: '' }, args: [] });
});

test('errors as pflag words them', () => {
  const error = (argv: string[]) => {
    try {
      parseFlags(SPECS, argv);
    } catch (err) {
      assert.ok(err instanceof FlagError);
      return err.message;
    }
    assert.fail('no error');
  };
  assert.equal(error(['--x']), 'unknown flag: --x');
  assert.equal(error(['--x=1']), 'unknown flag: --x');
  assert.equal(error(['-z']), "unknown shorthand flag: 'z' in -z");
  assert.equal(error(['-az']), "unknown shorthand flag: 'z' in -az");
  assert.equal(error(['--format']), 'flag needs an argument: --format');
  assert.equal(error(['-f']), "flag needs an argument: 'f' in -f");
  assert.equal(
    error(['--all=maybe']),
    'invalid argument "maybe" for "-a, --all" flag: strconv.ParseBool: parsing "maybe": invalid syntax',
  );
});

test('help lists flags aligned, as pflag does', () => {
  assert.equal(
    flagUsages(SPECS),
    '  -a, --all             Show all\n' +
      '  -q, --quiet           Only IDs\n' +
      '      --format string   Format\n' +
      '  -f, --filter filter   Filter\n',
  );
});

test('interspersed false (run, create, exec): flags end at the first positional', () => {
  assert.deepEqual(parseFlags(SPECS, ['-a', 'img', 'ls', '-a', '--format', 'x'], { interspersed: false }), {
    flags: { all: true },
    args: ['img', 'ls', '-a', '--format', 'x'],
  });
  assert.deepEqual(parseFlags(SPECS, ['--', '-q', 'x'], { interspersed: false }), {
    flags: {},
    args: ['-q', 'x'],
  });
  assert.deepEqual(parseFlags(SPECS, ['-a', 'img', '-q']), {
    flags: { all: true, quiet: true },
    args: ['img'],
  });
});

test('hidden flags are accepted but not listed', () => {
  const specs: FlagSpec[] = [...SPECS, { name: 'secret', type: 'bool', description: 'Hidden', hidden: true }];
  assert.deepEqual(parseFlags(specs, ['--secret']).flags, { secret: true });
  assert.doesNotMatch(flagUsages(specs), /secret/);
});
