import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

// DESIGN.md's layering: each folder may import only the folders listed (and itself).
const ALLOWED: Record<string, string[]> = {
  common: [],
  oci: ['common'],
  runtime: ['common', 'oci'],
  image: ['common', 'oci'],
  network: ['common', 'oci'],
  build: ['common', 'oci', 'image'],
  engine: ['common', 'oci', 'runtime', 'image', 'network', 'build'],
  api: ['common', 'oci', 'engine', 'image', 'build'],
  cli: ['common', 'oci', 'engine', 'image', 'build'],
};

const SRC = path.resolve(import.meta.dirname, '..', '..', '..', 'src');

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(full);
    else if (entry.name.endsWith('.ts')) yield full;
  }
}

test("imports point down the layers, and only at other folders' index modules", () => {
  const violations: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const from = path.relative(SRC, file).split(path.sep)[0]!;
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/^(?:import|export)[^'"]*from '(\.[^']+)'/gm)) {
      const target = path.relative(SRC, path.resolve(path.dirname(file), match[1]!));
      const [to, ...rest] = target.split(path.sep);
      if (to === from) continue;
      if (!ALLOWED[from]?.includes(to!))
        violations.push(`${path.relative(SRC, file)} imports ${target} (${from} → ${to})`);
      else if (rest.join('/') !== 'index.ts')
        violations.push(`${path.relative(SRC, file)} reaches into ${target}: import ${to}/index.ts`);
    }
  }
  assert.deepEqual(violations, []);
});
