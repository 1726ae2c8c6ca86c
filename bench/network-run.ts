/**
 * What a bridge network adds to a run, skiff against podman (its default CNI network, runc) in one
 * run: `run --rm IMAGE true` with --network none and on a bridge network, interleaved, medians, the
 * added cost and the ratios; then 50 containers started 2 at a time on one network.
 *
 *   node bench/network-run.ts [iterations]
 */
import { benchEngines, type Engine, IMAGE, run, startMany } from './engines.ts';
import { measureInterleaved, type Runner, report } from './lib.ts';

const ITERATIONS = Number(process.argv[2] ?? 10);
const BATCH = 50;
const PARALLEL = 2;

/** skiff's is a user-created network; podman's its default one (`podman`, CNI bridge). */
function bridgeOf(e: Engine): string {
  return e.name === 'skiff' ? 'benchnet' : 'podman';
}

async function main(): Promise<void> {
  const { engines, cleanup } = await benchEngines('skiff-bench-net');
  try {
    run(engines[0]!, ['network', 'create', 'benchnet']);
    const runners: Runner[] = engines.flatMap((e) =>
      ['none', bridgeOf(e)].map((network) => ({
        name: `${e.name} --network ${network === 'none' ? 'none' : 'bridge'}`,
        once: () => {
          run(e, ['run', '--rm', '--network', network, IMAGE, 'true']);
        },
      })),
    );
    const results = await measureInterleaved(runners, ITERATIONS);
    const base = engines.some((e) => e.name.startsWith('podman'))
      ? 'podman (runc) --network bridge'
      : 'skiff --network bridge';
    report(`run --rm ${IMAGE} true, ${ITERATIONS} runs each, interleaved (median)`, results, base);
    const added = engines.map((e) => {
      const none = results.find((r) => r.name === `${e.name} --network none`)?.median;
      const bridge = results.find((r) => r.name === `${e.name} --network bridge`)?.median;
      return {
        name: `${e.name}: bridge − none`,
        ...(none !== undefined && bridge !== undefined ? { median: bridge - none } : { note: 'failed' }),
      };
    });
    report('added cost of a bridge network', added, added.at(-1)!.name);
    const batch = [];
    for (const e of engines)
      batch.push({
        name: e.name,
        median: await startMany(e, BATCH, PARALLEL, ['--network', bridgeOf(e), IMAGE, 'sleep', '600']),
      });
    report(
      `${BATCH} containers on one bridge network, started ${PARALLEL} at a time (total)`,
      batch,
      batch.at(-1)!.name,
    );
  } finally {
    cleanup();
  }
}

await main();
