// Cases from distribution/reference's reference_test.go and normalize_test.go.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SkiffError } from '../../../src/common/index.ts';
import {
  familiarName,
  familiarString,
  formatReference,
  parseDockerRef,
  parseNormalizedNamed,
  parseReference,
  referenceName,
} from '../../../src/image/index.ts';

const F64 = 'f'.repeat(64);
const F128 = 'f'.repeat(128);

interface ParseCase {
  input: string;
  err?: RegExp;
  repository?: string;
  domain?: string;
  tag?: string;
  digest?: string;
}

const PARSE_CASES: ParseCase[] = [
  { input: 'test_com', repository: 'test_com' },
  { input: 'test.com:tag', repository: 'test.com', tag: 'tag' },
  { input: 'test.com:5000', repository: 'test.com', tag: '5000' },
  { input: 'test.com/repo:tag', domain: 'test.com', repository: 'test.com/repo', tag: 'tag' },
  { input: 'test:5000/repo', domain: 'test:5000', repository: 'test:5000/repo' },
  { input: 'test:5000/repo:tag', domain: 'test:5000', repository: 'test:5000/repo', tag: 'tag' },
  {
    input: `test:5000/repo@sha256:${F64}`,
    domain: 'test:5000',
    repository: 'test:5000/repo',
    digest: `sha256:${F64}`,
  },
  {
    input: `test:5000/repo:tag@sha256:${F64}`,
    domain: 'test:5000',
    repository: 'test:5000/repo',
    tag: 'tag',
    digest: `sha256:${F64}`,
  },
  { input: '', err: /at least one component/ },
  { input: ':justtag', err: /invalid reference format/ },
  { input: `@sha256:${F64}`, err: /invalid reference format/ },
  { input: `repo@sha256:${'f'.repeat(34)}`, err: /invalid checksum digest length/ },
  { input: `validname@invaliddigest:${F64}`, err: /unsupported digest algorithm/ },
  { input: 'Uppercase:tag', err: /must be lowercase/ },
  { input: 'test:5000/Uppercase/lowercase:tag', err: /must be lowercase/ },
  { input: 'lowercase:Uppercase', repository: 'lowercase', tag: 'Uppercase' },
  { input: `${'a/'.repeat(128)}a:tag`, err: /not be more than 255 characters/ },
  {
    input: `${'a/'.repeat(127)}a:tag-puts-this-over-max`,
    domain: 'a',
    repository: `${'a/'.repeat(127)}a`,
    tag: 'tag-puts-this-over-max',
  },
  { input: 'aa/asdf$$^/aa', err: /invalid reference format/ },
  {
    input: 'sub-dom1.foo.com/bar/baz/quux',
    domain: 'sub-dom1.foo.com',
    repository: 'sub-dom1.foo.com/bar/baz/quux',
  },
  {
    input: 'sub-dom1.foo.com/bar/baz/quux:some-long-tag',
    domain: 'sub-dom1.foo.com',
    repository: 'sub-dom1.foo.com/bar/baz/quux',
    tag: 'some-long-tag',
  },
  {
    input: 'b.gcr.io/test.example.com/my-app:test.example.com',
    domain: 'b.gcr.io',
    repository: 'b.gcr.io/test.example.com/my-app',
    tag: 'test.example.com',
  },
  {
    input: 'xn--n3h.com/myimage:xn--n3h.com',
    domain: 'xn--n3h.com',
    repository: 'xn--n3h.com/myimage',
    tag: 'xn--n3h.com',
  },
  {
    input: `xn--7o8h.com/myimage:xn--7o8h.com@sha512:${F128}`,
    domain: 'xn--7o8h.com',
    repository: 'xn--7o8h.com/myimage',
    tag: 'xn--7o8h.com',
    digest: `sha512:${F128}`,
  },
  { input: 'foo_bar.com:8080', repository: 'foo_bar.com', tag: '8080' },
  { input: 'foo/foo_bar.com:8080', domain: 'foo', repository: 'foo/foo_bar.com', tag: '8080' },
  { input: '192.168.1.1', repository: '192.168.1.1' },
  { input: '192.168.1.1:tag', repository: '192.168.1.1', tag: 'tag' },
  { input: '192.168.1.1:5000', repository: '192.168.1.1', tag: '5000' },
  { input: '192.168.1.1/repo', domain: '192.168.1.1', repository: '192.168.1.1/repo' },
  { input: '192.168.1.1:5000/repo', domain: '192.168.1.1:5000', repository: '192.168.1.1:5000/repo' },
  {
    input: '192.168.1.1:5000/repo:5050',
    domain: '192.168.1.1:5000',
    repository: '192.168.1.1:5000/repo',
    tag: '5050',
  },
  { input: '[2001:db8::1]', err: /invalid reference format/ },
  { input: '[2001:db8::1]:5000', err: /invalid reference format/ },
  { input: '[2001:db8::1]:tag', err: /invalid reference format/ },
  { input: '[2001:db8::1]/repo', domain: '[2001:db8::1]', repository: '[2001:db8::1]/repo' },
  {
    input: '[2001:db8:1:2:3:4:5:6]/repo:tag',
    domain: '[2001:db8:1:2:3:4:5:6]',
    repository: '[2001:db8:1:2:3:4:5:6]/repo',
    tag: 'tag',
  },
  { input: '[2001:db8::1]:5000/repo', domain: '[2001:db8::1]:5000', repository: '[2001:db8::1]:5000/repo' },
  {
    input: `[2001:db8::1]:5000/repo:tag@sha256:${F64}`,
    domain: '[2001:db8::1]:5000',
    repository: '[2001:db8::1]:5000/repo',
    tag: 'tag',
    digest: `sha256:${F64}`,
  },
  { input: '[::1]:5000/repo', domain: '[::1]:5000', repository: '[::1]:5000/repo' },
  { input: '[fe80::1%eth0]:5000/repo', err: /invalid reference format/ },
  { input: '[fe80::1%@invalidzone]:5000/repo', err: /invalid reference format/ },
];

for (const c of PARSE_CASES) {
  test(`parseReference ${JSON.stringify(c.input.length > 60 ? `${c.input.slice(0, 60)}…` : c.input)}`, () => {
    if (c.err) {
      assert.throws(
        () => parseReference(c.input),
        (err: unknown) =>
          err instanceof SkiffError && err.kind === 'InvalidArgument' && c.err!.test(err.message),
      );
      return;
    }
    const ref = parseReference(c.input);
    assert.equal(formatReference(ref), c.input);
    assert.equal(referenceName(ref), c.repository);
    assert.equal(ref.domain, c.domain ?? '');
    assert.equal(ref.tag, c.tag);
    assert.equal(ref.digest, c.digest);
  });
}

test('errors name the reference and say what is wrong', () => {
  assert.throws(
    () => parseReference('busybox:-bad'),
    /invalid reference `busybox:-bad`: .*invalid tag `-bad`/,
  );
  assert.throws(() => parseReference('busybox@latest'), /`latest` is not a digest/);
  assert.throws(() => parseDockerRef(F64.replace(/f/g, 'a')), /64-byte hexadecimal strings/);
});

const VALID_NAMES = [
  'docker/docker',
  'library/debian',
  'debian',
  'docker.io/docker/docker',
  'docker.io/library/debian',
  'docker.io/debian',
  'index.docker.io/docker/docker',
  'index.docker.io/library/debian',
  'index.docker.io/debian',
  '127.0.0.1:5000/docker/docker',
  '127.0.0.1:5000/library/debian',
  '127.0.0.1:5000/debian',
  '192.168.0.1',
  '192.168.0.1:80',
  '192.168.0.1:8/debian',
  '192.168.0.2:25000/debian',
  'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev',
  '[fc00::1]:5000/docker',
  '[fc00::1]:5000/docker/docker',
  '[fc00:1:2:3:4:5:6:7]:5000/library/debian',
  'docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
  'Docker/docker',
  'DOCKER/docker',
  'docker-rules/docker',
  'docker---rules/docker',
  'doc/docker',
  'd/docker',
  'jess/t',
  'dock__er/docker',
];

const INVALID_NAMES = [
  'https://github.com/docker/docker',
  'docker/Docker',
  '-docker',
  '-docker/docker',
  '-docker.io/docker/docker',
  'docker///docker',
  'docker.io/docker/Docker',
  'docker.io/docker///docker',
  '[fc00::1]',
  '[fc00::1]:5000',
  'fc00::1:5000/debian',
  '[fe80::1%eth0]:5000/debian',
  '[2001:db8:3:4::192.0.2.33]:5000/debian',
  '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
  'docker-/docker',
  '-docker-/docker',
  '____/____',
  '_docker/_docker',
  'dock..er/docker',
  'dock_.er/docker',
  'dock-.er/docker',
  'docker/',
  `${'this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_'.repeat(4)}/docker`,
];

test('parseNormalizedNamed accepts the valid names of normalize_test.go', () => {
  for (const name of VALID_NAMES) assert.doesNotThrow(() => parseNormalizedNamed(name), name);
});

test('parseNormalizedNamed refuses the invalid names of normalize_test.go with InvalidArgument', () => {
  for (const name of INVALID_NAMES)
    assert.throws(
      () => parseNormalizedNamed(name),
      (err: unknown) =>
        err instanceof SkiffError && err.kind === 'InvalidArgument' && err.message.includes(name),
      name,
    );
});

// RemoteName, FamiliarName, FullName, AmbiguousName, Domain (TestParseRepositoryInfo).
const REPOSITORY_INFO: [string, string, string, string, string][] = [
  ['fooo/bar', 'fooo/bar', 'docker.io/fooo/bar', 'index.docker.io/fooo/bar', 'docker.io'],
  ['library/ubuntu', 'ubuntu', 'docker.io/library/ubuntu', 'library/ubuntu', 'docker.io'],
  ['nonlibrary/ubuntu', 'nonlibrary/ubuntu', 'docker.io/nonlibrary/ubuntu', '', 'docker.io'],
  ['other/library', 'other/library', 'docker.io/other/library', '', 'docker.io'],
  [
    'private/moonbase',
    '127.0.0.1:8000/private/moonbase',
    '127.0.0.1:8000/private/moonbase',
    '',
    '127.0.0.1:8000',
  ],
  ['privatebase', '127.0.0.1:8000/privatebase', '127.0.0.1:8000/privatebase', '', '127.0.0.1:8000'],
  ['private/moonbase', 'example.com/private/moonbase', 'example.com/private/moonbase', '', 'example.com'],
  ['privatebase', 'example.com/privatebase', 'example.com/privatebase', '', 'example.com'],
  [
    'private/moonbase',
    'example.com:8000/private/moonbase',
    'example.com:8000/private/moonbase',
    '',
    'example.com:8000',
  ],
  ['privatebasee', 'example.com:8000/privatebasee', 'example.com:8000/privatebasee', '', 'example.com:8000'],
  [
    'library/ubuntu-12.04-base',
    'ubuntu-12.04-base',
    'docker.io/library/ubuntu-12.04-base',
    'index.docker.io/library/ubuntu-12.04-base',
    'docker.io',
  ],
  ['library/foo', 'foo', 'docker.io/library/foo', 'docker.io/foo', 'docker.io'],
  ['library/foo/bar', 'library/foo/bar', 'docker.io/library/foo/bar', '', 'docker.io'],
  ['store/foo/bar', 'store/foo/bar', 'docker.io/store/foo/bar', '', 'docker.io'],
  ['bar', 'Foo/bar', 'Foo/bar', '', 'Foo'],
  ['bar', 'FOO/bar', 'FOO/bar', '', 'FOO'],
];

test('normalization and familiar names (TestParseRepositoryInfo)', () => {
  for (const [remote, familiar, full, ambiguous, domain] of REPOSITORY_INFO) {
    for (const input of [familiar, full, ambiguous].filter(Boolean)) {
      const ref = parseNormalizedNamed(input);
      assert.equal(familiarName(ref), familiar, input);
      assert.equal(formatReference(ref), full, input);
      assert.equal(ref.domain, domain, input);
      assert.equal(ref.path, remote, input);
    }
  }
});

test('a tag and a digest together are kept, and shown familiar', () => {
  const short = 'busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa';
  const ref = parseNormalizedNamed(short);
  assert.equal(formatReference(ref), `docker.io/library/${short}`);
  assert.equal(familiarString(ref), short);
});

test('parseDockerRef adds latest only when there is neither tag nor digest', () => {
  assert.equal(formatReference(parseDockerRef('busybox')), 'docker.io/library/busybox:latest');
  assert.equal(formatReference(parseDockerRef('localhost:5000/x/y:tag')), 'localhost:5000/x/y:tag');
  assert.equal(formatReference(parseDockerRef('localhost/x')), 'localhost/x:latest');
  assert.equal(
    formatReference(parseDockerRef(`busybox@sha256:${F64}`)),
    `docker.io/library/busybox@sha256:${F64}`,
  );
  assert.equal(formatReference(parseDockerRef('dmcgowan/myapp')), 'docker.io/dmcgowan/myapp:latest');
});

// TestNormalizedSplitHostname.
test('which first component is a domain', () => {
  const cases: [string, string, string][] = [
    ['test.com/foo', 'test.com', 'foo'],
    ['test_com/foo', 'docker.io', 'test_com/foo'],
    ['docker/migrator', 'docker.io', 'docker/migrator'],
    ['test.com:8080/foo', 'test.com:8080', 'foo'],
    ['test-com:8080/foo', 'test-com:8080', 'foo'],
    ['foo', 'docker.io', 'library/foo'],
    ['xn--n3h.com/foo', 'xn--n3h.com', 'foo'],
    ['xn--n3h.com:18080/foo', 'xn--n3h.com:18080', 'foo'],
    ['docker.io/foo', 'docker.io', 'library/foo'],
    ['docker.io/library/foo', 'docker.io', 'library/foo'],
    ['docker.io/library/foo/bar', 'docker.io', 'library/foo/bar'],
    ['localhost/foo', 'localhost', 'foo'],
  ];
  for (const [input, domain, path] of cases) {
    const ref = parseNormalizedNamed(input);
    assert.deepEqual([ref.domain, ref.path], [domain, path], input);
  }
});
