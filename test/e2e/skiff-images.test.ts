// `bin/skiff` (the bundled CLI) against a temporary $SKIFF_ROOT whose images are put there through
// the image library: exact output lines and exit codes, as a user or a script sees them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Digest, digestOf, hostPlatform, ImageStore, MediaType } from '../../src/image/index.ts';
import { type Result, skiffWithRoot, tempEngineRoot } from '../helpers/engine.ts';
import { makeLayer, type TestLayer } from '../helpers/layers.ts';

interface TestContext {
  after: (fn: () => void) => void;
}

const tempRoot = (t: { after: (fn: () => void) => void }) => tempEngineRoot(t, 'skiff-cli-');
const skiff = (root: string, args: string[], input = ''): Result =>
  skiffWithRoot(root, args, { input, timeoutMs: 30_000 });

interface Made {
  id: Digest;
  manifest: Digest;
  size: number;
  layers: TestLayer[];
}

/** Puts an image (config with history, OCI manifest) into the store under names. */
async function putImage(
  t: TestContext,
  store: ImageStore,
  options: {
    names: string[];
    files: Record<string, string>[];
    createdMsAgo: number;
    labels?: Record<string, string>;
  },
): Promise<Made> {
  const layers = options.files.map((f) => makeLayer(t, f));
  for (const l of layers) await store.content.ingest([l.blob], { digest: l.digest, size: l.blob.length });
  const created = new Date(Date.now() - options.createdMsAgo).toISOString();
  const history = [
    ...layers.map((_l, i) => ({
      created,
      created_by: `/bin/sh -c #(nop) ADD file:${'f'.repeat(40)}${i} in / `,
    })),
    { created, created_by: '/bin/sh -c #(nop)  CMD ["sh"]', empty_layer: true, comment: 'last' },
  ];
  const config = Buffer.from(
    JSON.stringify({
      created,
      architecture: hostPlatform().architecture,
      os: 'linux',
      config: { Cmd: ['sh'], Env: ['PATH=/bin'], ...(options.labels ? { Labels: options.labels } : {}) },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history,
    }),
  );
  const id = digestOf(config);
  await store.content.put(config, id);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: id, size: config.length },
      layers: layers.map((l) => ({
        mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        digest: l.digest,
        size: l.blob.length,
      })),
    }),
  );
  const manifestDigest = digestOf(manifest);
  await store.content.put(manifest, manifestDigest);
  await store.putImage(manifestDigest, { names: options.names });
  return {
    id,
    manifest: manifestDigest,
    size: config.length + layers.reduce((s, l) => s + l.blob.length, 0),
    layers,
  };
}

const HOUR = 3_600_000;

/** Three images: busybox (two tags), alpine (a label), and a dangling one. */
async function populate(t: TestContext) {
  const root = tempRoot(t);
  const store = await ImageStore.open({ root });
  try {
    const busybox = await putImage(t, store, {
      names: ['busybox:latest', 'busybox:1.36'],
      files: [{ 'bin/busybox': 'x'.repeat(3000) }, { 'etc/passwd': 'root:x:0:0::/root:/bin/sh\n' }],
      createdMsAgo: 2 * HOUR,
    });
    const alpine = await putImage(t, store, {
      names: ['alpine:3'],
      files: [{ 'etc/alpine-release': '3.20\n' }],
      createdMsAgo: 5 * 24 * HOUR,
      labels: { maintainer: 'skiff', tier: 'base' },
    });
    const dangling = await putImage(t, store, {
      names: [],
      files: [{ 'tmp/x': 'dangling\n' }],
      createdMsAgo: 90_000,
    });
    return { root, busybox, alpine, dangling };
  } finally {
    store.close();
  }
}

const short = (id: string) => id.slice(7, 19);
const sizeOf = (n: number) => {
  // Only sizes below 1 MB occur here: kB with three significant digits, as docker prints them.
  if (n < 1000) return `${n}B`;
  const v = n / 1000;
  return `${v >= 100 ? Math.round(v) : v >= 10 ? Number(v.toFixed(1)) : Number(v.toFixed(2))}kB`;
};
/** units.HumanSize (four significant digits), as prune and system df print. */
const humanSize = (n: number) => (n < 1000 ? `${n}B` : `${Number((n / 1000).toPrecision(4))}kB`);
const lines = (s: string) => s.split('\n').slice(0, -1);
/** A table row as tabwriter pads it (minimum width 10, padding 3). */
const row = (widths: number[], cells: string[]) =>
  cells.map((c, i) => (i < cells.length - 1 ? c.padEnd(Math.max(10, widths[i]! + 3)) : c)).join('');

test("skiff --version, --help, unknown commands and flags use docker's messages and exit codes", (t) => {
  const root = tempRoot(t);
  assert.deepEqual(skiff(root, ['--version']), { status: 0, stdout: 'skiff version 0.1.0\n', stderr: '' });
  const help = skiff(root, ['--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^Usage: {2}skiff \[OPTIONS\] COMMAND$/m);
  assert.match(help.stdout, /^ {2}images {6}List images$/m);
  assert.deepEqual(skiff(root, ['frobnicate']), {
    status: 125,
    stdout: '',
    stderr: "skiff: 'frobnicate' is not a skiff command.\nSee 'skiff --help'\n",
  });
  assert.deepEqual(skiff(root, ['images', '--x']), {
    status: 125,
    stdout: '',
    stderr:
      "unknown flag: --x\n\nUsage:  skiff images [OPTIONS] [REPOSITORY[:TAG]]\n\nRun 'skiff images --help' for more information\n",
  });
  const tag = skiff(root, ['tag', 'a']);
  assert.equal(tag.status, 125);
  assert.equal(lines(tag.stderr)[0], '"skiff tag" requires exactly 2 arguments.');
  assert.equal(skiff(root, ['image', 'frob']).status, 125);
  assert.equal(skiff(root, ['--log-level', 'loud', 'images']).status, 125);
  const imageHelp = skiff(root, ['image', 'ls', '--help']);
  assert.match(imageHelp.stdout, /^ {2}skiff image ls, skiff image list, skiff images$/m);
});

test('skiff images on an empty store prints only the header', (t) => {
  const root = tempRoot(t);
  assert.deepEqual(skiff(root, ['images']), {
    status: 0,
    stdout: 'REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n',
    stderr: '',
  });
});

test('skiff images lists one row per tag, newest first, aligned as docker aligns them', async (t) => {
  const { root, busybox, alpine, dangling } = await populate(t);
  const w = [10, 6, 12, 13];
  const expected = [
    row(w, ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE']),
    row(w, ['<none>', '<none>', short(dangling.id), 'About a minute ago', sizeOf(dangling.size)]),
    row(w, ['busybox', '1.36', short(busybox.id), '2 hours ago', sizeOf(busybox.size)]),
    row(w, ['busybox', 'latest', short(busybox.id), '2 hours ago', sizeOf(busybox.size)]),
    row(w, ['alpine', '3', short(alpine.id), '5 days ago', sizeOf(alpine.size)]),
  ];
  // The CREATED column is as wide as "About a minute ago".
  const widths = [10, 6, 12, 18];
  const want = expected.map((_l, i) =>
    row(widths, [
      ['REPOSITORY', '<none>', 'busybox', 'busybox', 'alpine'][i]!,
      ['TAG', '<none>', '1.36', 'latest', '3'][i]!,
      ['IMAGE ID', short(dangling.id), short(busybox.id), short(busybox.id), short(alpine.id)][i]!,
      ['CREATED', 'About a minute ago', '2 hours ago', '2 hours ago', '5 days ago'][i]!,
      ['SIZE', sizeOf(dangling.size), sizeOf(busybox.size), sizeOf(busybox.size), sizeOf(alpine.size)][i]!,
    ]),
  );
  const r = skiff(root, ['images']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(lines(r.stdout), want);
  assert.deepEqual(lines(skiff(root, ['image', 'ls']).stdout), want);

  assert.deepEqual(lines(skiff(root, ['images', '-q']).stdout), [
    short(dangling.id),
    short(busybox.id),
    short(busybox.id),
    short(alpine.id),
  ]);
  assert.deepEqual(lines(skiff(root, ['images', '-q', '--no-trunc']).stdout), [
    dangling.id,
    busybox.id,
    busybox.id,
    alpine.id,
  ]);
  assert.deepEqual(lines(skiff(root, ['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']).stdout), [
    `<none>:<none> ${short(dangling.id)}`,
    `busybox:1.36 ${short(busybox.id)}`,
    `busybox:latest ${short(busybox.id)}`,
    `alpine:3 ${short(alpine.id)}`,
  ]);
  assert.deepEqual(
    lines(skiff(root, ['images', '--format', 'table {{.Repository}}\\t{{.Tag}}', 'busybox']).stdout),
    ['REPOSITORY   TAG', 'busybox      1.36', 'busybox      latest'],
  );
  const json = lines(skiff(root, ['images', '--format', '{{json .}}', 'alpine']).stdout).map((l) =>
    JSON.parse(l),
  );
  assert.equal(json.length, 1);
  assert.deepEqual(Object.keys(json[0]), [
    'Containers',
    'CreatedAt',
    'CreatedSince',
    'Digest',
    'ID',
    'Repository',
    'SharedSize',
    'Size',
    'Tag',
    'UniqueSize',
    'VirtualSize',
  ]);
  assert.equal(json[0].Repository, 'alpine');
  assert.match(json[0].CreatedAt, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC$/);

  const digests = lines(
    skiff(root, ['images', '--digests', '--format', '{{.Repository}} {{.Digest}}', 'busybox:latest']).stdout,
  );
  assert.deepEqual(digests, [`busybox ${busybox.manifest}`]);
  assert.match(
    lines(skiff(root, ['images', '--digests']).stdout)[0]!,
    /^REPOSITORY {3}TAG {7}DIGEST {4,}IMAGE ID {7}CREATED {14}SIZE$/,
  );
});

test('skiff images --filter: dangling, reference, label, before, since; bad filters and fields fail', async (t) => {
  const { root, busybox, alpine, dangling } = await populate(t);
  const q = (...args: string[]) => lines(skiff(root, ['images', '-q', ...args]).stdout);
  assert.deepEqual(q('--filter', 'dangling=true'), [short(dangling.id)]);
  assert.deepEqual(q('-f', 'dangling=false'), [short(busybox.id), short(busybox.id), short(alpine.id)]);
  assert.deepEqual(q('--filter', 'reference=busy*'), [short(busybox.id), short(busybox.id)]);
  assert.deepEqual(q('--filter', 'reference=*:3'), [short(alpine.id)]);
  assert.deepEqual(q('--filter', 'label=tier=base'), [short(alpine.id)]);
  assert.deepEqual(q('--filter', 'label=maintainer'), [short(alpine.id)]);
  assert.deepEqual(q('--filter', 'label=tier=top'), []);
  assert.deepEqual(q('--filter', 'before=busybox:latest'), [short(alpine.id)]);
  assert.deepEqual(q('--filter', 'since=busybox:latest'), [short(dangling.id)]);
  assert.deepEqual(q('--filter', 'dangling=false', '--filter', 'reference=alpine'), [short(alpine.id)]);
  assert.deepEqual(skiff(root, ['images', '--filter', 'color=red']), {
    status: 1,
    stdout: '',
    stderr: "Error response from daemon: invalid filter 'color'\n",
  });
  assert.deepEqual(skiff(root, ['images', '--format', '{{.Foo}}']), {
    status: 1,
    stdout: '',
    stderr:
      'template: :1:2: executing "" at <.Foo>: can\'t evaluate field Foo in type *formatter.imageContext\n',
  });
  const parse = skiff(root, ['images', '--format', '{{.ID']);
  assert.equal(parse.status, 64);
  assert.equal(parse.stderr, 'template parsing error: template: :1: unclosed action\n');
});

test('skiff tag and rmi: untag, delete, conflicts, missing images, several arguments', async (t) => {
  const { root, busybox, alpine } = await populate(t);
  assert.deepEqual(skiff(root, ['tag', 'alpine:3', 'localhost:5000/mine/alpine:v1']), {
    status: 0,
    stdout: '',
    stderr: '',
  });
  assert.deepEqual(
    lines(skiff(root, ['images', '--format', '{{.Repository}}:{{.Tag}}', 'localhost:5000/mine/*']).stdout),
    ['localhost:5000/mine/alpine:v1'],
  );
  assert.deepEqual(skiff(root, ['tag', 'nothere', 'x:1']), {
    status: 1,
    stdout: '',
    stderr: 'Error response from daemon: No such image: nothere:latest\n',
  });
  assert.deepEqual(skiff(root, ['tag', 'alpine:3', 'Bad:Name']), {
    status: 1,
    stdout: '',
    stderr: 'Error parsing reference: "Bad:Name" is not a valid repository/tag: invalid reference format\n',
  });

  // By ID while tagged in two repositories: docker's conflict, nothing removed.
  const conflict = skiff(root, ['rmi', short(alpine.id)]);
  assert.deepEqual(conflict, {
    status: 1,
    stdout: '',
    stderr: `Error response from daemon: conflict: unable to delete ${short(alpine.id)} (must be forced) - image is referenced in multiple repositories\n`,
  });
  // A name whose image keeps other tags is only untagged.
  assert.deepEqual(skiff(root, ['rmi', 'busybox:1.36']), {
    status: 0,
    stdout: 'Untagged: busybox:1.36\n',
    stderr: '',
  });
  // Several arguments: the missing one is reported, the others still go, exit 1.
  const many = skiff(root, ['image', 'rm', 'nothere', 'busybox']);
  assert.equal(many.status, 1);
  assert.equal(many.stderr, 'Error response from daemon: No such image: nothere:latest\n');
  assert.deepEqual(lines(many.stdout), [
    'Untagged: busybox:latest',
    `Untagged: busybox@${busybox.manifest}`,
    `Deleted: ${busybox.id}`,
  ]);
  // -f removes by ID across repositories, and makes a missing image no error.
  const forced = skiff(root, ['rmi', '-f', alpine.id, 'nothere']);
  assert.equal(forced.status, 0, forced.stderr);
  assert.deepEqual(
    lines(forced.stdout).sort(),
    [
      `Deleted: ${alpine.id}`,
      `Untagged: alpine:3`,
      `Untagged: alpine@${alpine.manifest}`,
      `Untagged: localhost:5000/mine/alpine:v1`,
      `Untagged: localhost:5000/mine/alpine@${alpine.manifest}`,
    ].sort(),
  );
  assert.deepEqual(lines(skiff(root, ['images', '--format', '{{.Repository}}:{{.Tag}}']).stdout), [
    '<none>:<none>',
  ]);
});

test("skiff image inspect prints Docker's ImageInspect shape, --format, and [] plus an error when missing", async (t) => {
  const { root, busybox } = await populate(t);
  const r = skiff(root, ['image', 'inspect', 'busybox']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\[\n {4}\{\n {8}"Id": "sha256:/);
  const [info] = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(info), [
    'Id',
    'RepoTags',
    'RepoDigests',
    'Comment',
    'Created',
    'Author',
    'Config',
    'Architecture',
    'Os',
    'Size',
    'RootFS',
    'Metadata',
  ]);
  assert.equal(info.Id, busybox.id);
  assert.deepEqual(info.RepoTags, ['busybox:1.36', 'busybox:latest']);
  assert.deepEqual(info.RepoDigests, [`busybox@${busybox.manifest}`]);
  assert.deepEqual(info.Config, { Cmd: ['sh'], Env: ['PATH=/bin'] });
  assert.equal(info.Os, 'linux');
  assert.equal(info.Size, busybox.size);
  assert.deepEqual(info.RootFS, { Type: 'layers', Layers: busybox.layers.map((l) => l.diffId) });

  assert.deepEqual(
    skiff(root, ['image', 'inspect', '--format', '{{.Id}} {{.Os}} {{json .RootFS.Layers}}', 'busybox']),
    {
      status: 0,
      stdout: `${busybox.id} linux ${JSON.stringify(busybox.layers.map((l) => l.diffId))}\n`,
      stderr: '',
    },
  );
  assert.equal(
    skiff(root, ['image', 'inspect', '-f', '{{range .RepoTags}}{{.}} {{end}}', short(busybox.id)]).stdout,
    'busybox:1.36 busybox:latest \n',
  );
  assert.deepEqual(skiff(root, ['image', 'inspect', 'nothere']), {
    status: 1,
    stdout: '[]\n',
    stderr: 'Error response from daemon: No such image: nothere:latest\n',
  });
});

test('skiff history lists the config history newest first, with layer sizes', async (t) => {
  const { root, busybox } = await populate(t);
  const r = skiff(root, ['history', 'busybox']);
  assert.equal(r.status, 0, r.stderr);
  const by = (i: number) => `/bin/sh -c #(nop) ADD file:${'f'.repeat(40)}${i} in / `;
  const cut = (s: string) => `${[...s].slice(0, 44).join('')}…`;
  const w = [12, 11, 45, 6];
  assert.deepEqual(lines(r.stdout), [
    row(w, ['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT']),
    row(w, [short(busybox.id), '2 hours ago', '/bin/sh -c #(nop)  CMD ["sh"]', '0B', 'last']),
    row(w, ['<missing>', '2 hours ago', cut(by(1)), sizeOf(busybox.layers[1]!.blob.length), '']),
    row(w, ['<missing>', '2 hours ago', cut(by(0)), sizeOf(busybox.layers[0]!.blob.length), '']),
  ]);
  assert.deepEqual(lines(skiff(root, ['history', '-q', 'busybox']).stdout), [
    short(busybox.id),
    '<missing>',
    '<missing>',
  ]);
  assert.deepEqual(
    lines(skiff(root, ['history', '--no-trunc', '--format', '{{.ID}}|{{.CreatedBy}}', 'busybox']).stdout),
    [`${busybox.id}|/bin/sh -c #(nop)  CMD ["sh"]`, `<missing>|${by(1)}`, `<missing>|${by(0)}`],
  );
  const raw = lines(
    skiff(root, ['history', '-H=false', '--format', '{{.CreatedSince}} {{.CreatedAt}} {{.Size}}', 'busybox'])
      .stdout,
  );
  assert.equal(raw.length, 3);
  assert.match(raw[0]!, /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) \1 0$/);
  assert.match(raw[2]!, new RegExp(` ${busybox.layers[0]!.blob.length}$`));
  assert.deepEqual(skiff(root, ['history', 'nothere:1']), {
    status: 1,
    stdout: '',
    stderr: 'Error response from daemon: No such image: nothere:1\n',
  });
});

test('skiff image prune asks first, removes dangling images, and reports the space', async (t) => {
  const { root, dangling } = await populate(t);
  const store = await ImageStore.open({ root });
  const manifestSize = (await store.content.stat(dangling.manifest)).size;
  store.close();
  const prompt = 'WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] ';
  assert.deepEqual(skiff(root, ['image', 'prune'], 'n\n'), { status: 0, stdout: prompt, stderr: '' });
  assert.equal(lines(skiff(root, ['images', '-q']).stdout).length, 4);
  const yes = skiff(root, ['image', 'prune'], 'y\n');
  assert.equal(yes.status, 0, yes.stderr);
  assert.deepEqual(
    yes.stdout,
    `${prompt}Deleted Images:\ndeleted: ${dangling.id}\n\nTotal reclaimed space: ${humanSize(dangling.size + manifestSize)}\n`,
  );
  assert.deepEqual(skiff(root, ['image', 'prune', '-f']), {
    status: 0,
    stdout: 'Total reclaimed space: 0B\n',
    stderr: '',
  });
  assert.equal(lines(skiff(root, ['images', '-q']).stdout).length, 3);
  const all = skiff(root, ['image', 'prune', '-a', '-f']);
  assert.equal(all.status, 0, all.stderr);
  assert.match(all.stdout, /^Deleted Images:\n/);
  assert.match(all.stdout, /\nTotal reclaimed space: \d/);
  assert.deepEqual(skiff(root, ['images', '-q']).stdout, '');
});

test('skiff system df counts images and their shared bytes', async (t) => {
  const { root } = await populate(t);
  const r = skiff(root, ['system', 'df']);
  assert.equal(r.status, 0, r.stderr);
  // Each image's config plus its layers, a layer shared by several images counted once.
  const store = await ImageStore.open({ root });
  const layers = new Map<string, number>();
  let configs = 0;
  for (const image of store.list()) {
    let own = image.size;
    for (const l of image.layers) {
      const size = store.layerSize(l.diffId, l.blob.size);
      layers.set(l.chainId, size);
      own -= size;
    }
    configs += own;
  }
  store.close();
  const size = humanSize(configs + [...layers.values()].reduce((a, b) => a + b, 0));
  const rows = lines(r.stdout).map((line) => line.split(/ {2,}/));
  assert.deepEqual(rows[0], ['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE']);
  assert.deepEqual(rows[1], ['Images', '3', '0', size, `${size} (100%)`]);
  assert.deepEqual(
    rows.slice(2).map((cells) => cells[0]),
    ['Containers', 'Local Volumes', 'Build Cache'],
  );
});

test('--root overrides $SKIFF_ROOT', async (t) => {
  const { root } = await populate(t);
  const empty = tempRoot(t);
  assert.equal(lines(skiff(empty, ['images', '-q']).stdout).length, 0);
  assert.equal(lines(skiff(empty, ['--root', root, 'images', '-q']).stdout).length, 4);
  assert.equal(lines(skiff(empty, [`--root=${root}`, 'images', '-q']).stdout).length, 4);
});
