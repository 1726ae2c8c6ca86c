/**
 * runc's `ps`, `pause`, `resume`, `update`, `events` and `features` commands: argument parsing and
 * printing only; the work is in ../operations.ts, ../events.ts and ../features.ts.
 */
import { readFileSync } from 'node:fs';
import { invalidArgument } from '../../common/index.ts';
import { containerStats, parseInterval, type RuntimeEvent, watchEvents } from '../events.ts';
import { features } from '../features.ts';
import type { Runtime } from '../lifecycle.ts';
import {
  containerPids,
  mergeResources,
  pauseContainer,
  psTable,
  readResourcesFile,
  resourcesFromFlags,
  resumeContainer,
  updateContainer,
} from '../operations.ts';
import { type Options, parseCommandArgs } from './args.ts';

interface CommandSpec {
  options: Options;
  usage: string;
  run: (runtime: Runtime, args: string[]) => Promise<number>;
}

const parse = parseCommandArgs;

const printEvent = (event: RuntimeEvent) => process.stdout.write(`${JSON.stringify(event)}\n`);

const UPDATE_FLAGS = {
  memory: 'memory',
  'memory-reservation': 'memoryReservation',
  'memory-swap': 'memorySwap',
  'cpu-shares': 'cpuShares',
  'cpu-period': 'cpuPeriod',
  'cpu-quota': 'cpuQuota',
  'cpuset-cpus': 'cpusetCpus',
  'cpuset-mems': 'cpusetMems',
  'pids-limit': 'pidsLimit',
  'blkio-weight': 'blkioWeight',
} as const;

const ps: CommandSpec = {
  usage: 'ps [--format table|json] ID [-- PS_OPTIONS…]',
  options: { format: { type: 'string', short: 'f', default: 'table' } },
  run: async (runtime, args) => {
    const { values, positionals } = parse('ps', ps, args, 1, Number.POSITIVE_INFINITY);
    const [id, ...psArgs] = positionals as [string, ...string[]];
    if (values.format === 'json') {
      if (psArgs.length > 0) throw invalidArgument('ps: options for ps(1) only apply to --format table');
      process.stdout.write(`${JSON.stringify(await containerPids(runtime.store, id))}\n`);
    } else if (values.format === 'table') {
      process.stdout.write(await psTable(runtime.store, id, psArgs));
    } else {
      throw invalidArgument(`invalid --format "${values.format}": use table or json`);
    }
    return 0;
  },
};

const pause: CommandSpec = {
  usage: 'pause ID',
  options: {},
  run: async (runtime, args) => {
    await pauseContainer(runtime.store, parse('pause', pause, args, 1).positionals[0]!);
    return 0;
  },
};

const resume: CommandSpec = {
  usage: 'resume ID',
  options: {},
  run: async (runtime, args) => {
    await resumeContainer(runtime.store, parse('resume', resume, args, 1).positionals[0]!);
    return 0;
  },
};

const update: CommandSpec = {
  usage:
    'update [-r FILE|-] [--memory N] [--memory-reservation N] [--memory-swap N] [--cpu-shares N] ' +
    '[--cpu-period N] [--cpu-quota N] [--cpuset-cpus LIST] [--cpuset-mems LIST] [--pids-limit N] [--blkio-weight N] ID',
  options: {
    resources: { type: 'string', short: 'r' },
    ...Object.fromEntries(Object.keys(UPDATE_FLAGS).map((flag) => [flag, { type: 'string' as const }])),
  },
  run: async (runtime, args) => {
    const { values, positionals } = parse('update', update, args, 1);
    const flags: Record<string, string> = {};
    for (const [flag, field] of Object.entries(UPDATE_FLAGS)) {
      if (values[flag] !== undefined) flags[field] = String(values[flag]);
    }
    // As runc: the file is the base, the flags override it.
    const fromFile =
      values.resources !== undefined
        ? readResourcesFile(String(values.resources), () => readFileSync(0, 'utf8'))
        : undefined;
    const resources = mergeResources(fromFile, resourcesFromFlags(flags));
    for (const warning of await updateContainer(runtime.store, positionals[0]!, resources)) {
      process.stderr.write(`skiff-runtime: warning: ${warning}\n`);
    }
    return 0;
  },
};

const events: CommandSpec = {
  usage: 'events [--stats] [--interval 5s] ID',
  options: { stats: { type: 'boolean' }, interval: { type: 'string', default: '5s' } },
  run: async (runtime, args) => {
    const { values, positionals } = parse('events', events, args, 1);
    const id = positionals[0]!;
    if (values.stats) {
      printEvent(await containerStats(runtime.store, id));
      return 0;
    }
    const intervalMs = parseInterval(String(values.interval));
    await watchEvents(runtime.store, id, { intervalMs, onEvent: printEvent });
    return 0;
  },
};

const featuresCommand: CommandSpec = {
  usage: 'features',
  options: {},
  run: async (_runtime, args) => {
    parse('features', featuresCommand, args, 0);
    process.stdout.write(`${JSON.stringify(await features(), null, '    ')}\n`);
    return 0;
  },
};

export const OPERATION_COMMANDS: Record<string, CommandSpec> = {
  ps,
  pause,
  resume,
  update,
  events,
  features: featuresCommand,
};
