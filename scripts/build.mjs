// Bundles each executable into one CommonJS file, plus a tiny entry that turns on V8's compile cache
// before the bundle is compiled. CommonJS, because Node loads built-in modules through require()
// much faster than through ESM facades; together these halve the CLI's start-up (bench/).
import { writeFile } from 'node:fs/promises';
import { build } from 'esbuild';

const entries = {
  'skiff-runtime': 'src/runtime/cli/main.ts',
  skiff: 'src/cli/main.ts',
  // The worker thread that unpacks a layer during a pull (src/image/layer/apply-worker.ts).
  'skiff-unpack-worker': 'src/image/layer/unpack-worker.ts',
};

// The sources are ES modules that find files relative to import.meta.url; in the bundle that is
// the bundle's own location.
const banner = "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;";

const loader = (name) => `'use strict';
// Caches V8's compiled code of the bundle next to it (ignored where dist/ is read-only).
require('node:module').enableCompileCache?.(require('node:path').join(__dirname, '.compile-cache'));
require('./${name}.bundle.cjs');
`;

await Promise.all(
  Object.entries(entries).map(async ([name, entry]) => {
    await build({
      entryPoints: [entry],
      outfile: `dist/${name}.bundle.cjs`,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node22',
      sourcemap: 'linked',
      legalComments: 'none',
      logLevel: 'warning',
      banner: { js: banner },
      define: { 'import.meta.url': '__bundleUrl' },
    });
    await writeFile(`dist/${name}.cjs`, loader(name));
  }),
);
