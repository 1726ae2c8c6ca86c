// Bundles each executable into one ES module so that start-up loads a single file.
import { build } from 'esbuild';

const entries = {
  'skiff-runtime': 'src/runtime/cli/main.ts',
};

await Promise.all(
  Object.entries(entries).map(([name, entry]) =>
    build({
      entryPoints: [entry],
      outfile: `dist/${name}.mjs`,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      sourcemap: 'linked',
      legalComments: 'none',
      logLevel: 'warning',
    }),
  ),
);
