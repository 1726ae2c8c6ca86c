// system df's RECLAIMABLE text and system prune's prompt, as docker's CLI writes them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reclaimableText } from '../../../src/cli/commands/system/df.ts';
import { pruneWarning } from '../../../src/cli/commands/system/prune.ts';

test('reclaimableText: a share of the total, none without a total', () => {
  assert.equal(reclaimableText(11_630_000, 16_430_000), '11.63MB (70%)');
  assert.equal(reclaimableText(0, 0), '0B');
});

test("pruneWarning: docker's list, -a and --volumes, filters sorted naturally", () => {
  assert.equal(
    pruneWarning({ all: true, volumes: true, filters: ['until=24h', 'label=b', 'label!=a'] }),
    'WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all anonymous volumes not used by at least one container\n  - all images without at least one container associated to them\n  - all build cache\n\n  Items to be pruned will be filtered with:\n  - label!=a\n  - label=b\n  - until=24h\n\nAre you sure you want to continue? [y/N] ',
  );
});
