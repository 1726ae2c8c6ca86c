// system df's image arithmetic and system prune's filters (pure).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  imageUsage,
  matchesPruneFilters,
  parseSystemPruneFilters,
  parseUntil,
} from '../../../../src/engine/index.ts';
import type { Image } from '../../../../src/image/index.ts';

function image(id: string, chainIds: string[], config = 10): Image {
  const layers = chainIds.map((c) => ({
    diffId: `sha256:d${c}`,
    chainId: `sha256:${c}`,
    blob: { digest: `sha256:b${c}`, mediaType: 'x', size: 1 },
  }));
  const size = config + chainIds.reduce((s, c) => s + Number(c.slice(1)), 0);
  return {
    id,
    manifestDigest: `m${id}`,
    repoTags: [],
    repoDigests: [],
    os: 'linux',
    architecture: 'amd64',
    size,
    layers,
  };
}

test('imageUsage: shared layers counted once; reclaimable is what no used image holds', () => {
  // Layer sizes are in their names: a100 is 100 bytes. Both images share a100.
  const images = [image('one', ['a100', 'b20']), image('two', ['a100', 'c3'])];
  const size = (l: Image['layers'][number]) => Number(l.chainId.slice('sha256:a'.length));
  const usage = imageUsage(images, size, (i) => (i.id === 'one' ? 2 : 0));
  assert.deepEqual(
    usage.items.map((u) => [u.image.id, u.size, u.sharedSize, u.containers]),
    [
      ['one', 130, 100, 2],
      ['two', 113, 100, 0],
    ],
  );
  assert.equal(usage.totalSize, 100 + 20 + 3 + 10 + 10);
  assert.equal(usage.activeCount, 1);
  // What only `two` holds: its layer c3 and its config.
  assert.equal(usage.reclaimable, 13);
});

test('parseUntil: Unix seconds, RFC 3339, a Go duration before now', () => {
  assert.equal(parseUntil('1700000000'), 1_700_000_000_000);
  assert.equal(parseUntil('2026-11-23T00:00:00Z'), Date.parse('2026-11-23T00:00:00Z'));
  assert.equal(parseUntil('1h30m', 10_000_000), 10_000_000 - 5_400_000);
  assert.throws(() => parseUntil('soon'), /failed to parse value as time or duration: "soon"/);
});

test('system prune filters: label, label!, until; until refused with volumes; unknown keys refused', () => {
  const f = parseSystemPruneFilters(['label=a=1', 'label!=b', 'until=2026-01-01T00:00:00Z']);
  assert.equal(matchesPruneFilters(f, '2025-06-01T00:00:00Z', { a: '1' }), true);
  assert.equal(matchesPruneFilters(f, '2026-06-01T00:00:00Z', { a: '1' }), false, 'created after until');
  assert.equal(matchesPruneFilters(f, '2025-06-01T00:00:00Z', { a: '1', b: 'x' }), false, 'label! present');
  assert.equal(matchesPruneFilters(f, '2025-06-01T00:00:00Z', { a: '2' }), false, 'label value differs');
  assert.throws(
    () => parseSystemPruneFilters(['until=1h'], { volumes: true }),
    /"until" filter is not supported/,
  );
  assert.throws(() => parseSystemPruneFilters(['dangling=true']), /invalid filter 'dangling'/);
  assert.throws(() => parseSystemPruneFilters(['label']), /bad format of filter/);
});
