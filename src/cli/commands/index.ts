/**
 * The command table: nouns and their verbs, each loaded only when run (so `skiff --version` never
 * evaluates the image store), and docker's top-level aliases. Adding a verb is one entry here and
 * one module commands/<noun>/<verb>.ts exporting a CommandDef as default.
 */
import type { CommandDef } from '../command.ts';

export interface VerbEntry {
  readonly summary: string;
  /** Other names of the verb under its noun (`image list` for `image ls`). */
  readonly aliases?: readonly string[];
  /** Not listed in help (internal verbs, and the targets of top-level-only commands). */
  readonly hidden?: boolean;
  readonly load: () => Promise<{ default: CommandDef }>;
}

export interface NounEntry {
  readonly summary: string;
  readonly verbs: Readonly<Record<string, VerbEntry>>;
}

export const NOUNS: Readonly<Record<string, NounEntry>> = {
  container: {
    summary: 'Manage containers',
    verbs: {
      attach: {
        summary: 'Attach local standard input, output, and error streams to a running container',
        load: () => import('./container/attach.ts'),
      },
      cleanup: {
        summary: 'Clean up after a container exits (run by its monitor)',
        hidden: true,
        load: () => import('./container/cleanup.ts'),
      },
      create: { summary: 'Create a new container', load: () => import('./container/create.ts') },
      exec: {
        summary: 'Execute a command in a running container',
        load: () => import('./container/exec.ts'),
      },
      export: {
        summary: "Export a container's filesystem as a tar archive",
        load: () => import('./container/export.ts'),
      },
      inspect: {
        summary: 'Display detailed information on one or more containers',
        load: () => import('./container/inspect.ts'),
      },
      // docker's top-level `inspect` (containers, then images): reached only as `skiff inspect`.
      'inspect-any': {
        summary: 'Return low-level information on Docker objects',
        hidden: true,
        load: () => import('./container/inspect-any.ts'),
      },
      healthcheck: {
        summary: 'Run the health check of a container once (run by its monitor)',
        hidden: true,
        load: () => import('./container/healthcheck.ts'),
      },
      kill: { summary: 'Kill one or more running containers', load: () => import('./container/kill.ts') },
      logs: { summary: 'Fetch the logs of a container', load: () => import('./container/logs.ts') },
      ls: { summary: 'List containers', aliases: ['list', 'ps'], load: () => import('./container/ls.ts') },
      restart: { summary: 'Restart one or more containers', load: () => import('./container/restart.ts') },
      rm: {
        summary: 'Remove one or more containers',
        aliases: ['remove'],
        load: () => import('./container/rm.ts'),
      },
      run: {
        summary: 'Create and run a new container from an image',
        load: () => import('./container/run.ts'),
      },
      start: { summary: 'Start one or more stopped containers', load: () => import('./container/start.ts') },
      stats: {
        summary: 'Display a live stream of container(s) resource usage statistics',
        load: () => import('./container/stats.ts'),
      },
      stop: { summary: 'Stop one or more running containers', load: () => import('./container/stop.ts') },
      wait: {
        summary: 'Block until one or more containers stop, then print their exit codes',
        load: () => import('./container/wait.ts'),
      },
      cp: {
        summary: 'Copy files/folders between a container and the local filesystem',
        load: () => import('./container/cp.ts'),
      },
      pause: {
        summary: 'Pause all processes within one or more containers',
        load: () => import('./container/pause.ts'),
      },
      port: {
        summary: 'List port mappings or a specific mapping for the container',
        load: () => import('./container/port.ts'),
      },
      top: {
        summary: 'Display the running processes of a container',
        load: () => import('./container/top.ts'),
      },
      unpause: {
        summary: 'Unpause all processes within one or more containers',
        load: () => import('./container/unpause.ts'),
      },
      update: {
        summary: 'Update configuration of one or more containers',
        load: () => import('./container/update.ts'),
      },
      diagnose: {
        summary: 'Show a container as the kernel sees it and what is wrong with it',
        load: () => import('./container/diagnose.ts'),
      },
      prune: { summary: 'Remove all stopped containers', load: () => import('./container/prune.ts') },
      rename: { summary: 'Rename a container', load: () => import('./container/rename.ts') },
    },
  },
  image: {
    summary: 'Manage images',
    verbs: {
      history: { summary: 'Show the history of an image', load: () => import('./image/history.ts') },
      import: {
        summary: 'Import the contents from a tarball to create a filesystem image',
        load: () => import('./image/import.ts'),
      },
      inspect: {
        summary: 'Display detailed information on one or more images',
        load: () => import('./image/inspect.ts'),
      },
      load: { summary: 'Load an image from a tar archive or STDIN', load: () => import('./image/load.ts') },
      ls: { summary: 'List images', aliases: ['list'], load: () => import('./image/ls.ts') },
      prune: { summary: 'Remove unused images', load: () => import('./image/prune.ts') },
      pull: { summary: 'Download an image from a registry', load: () => import('./image/pull.ts') },
      push: { summary: 'Upload an image to a registry', load: () => import('./image/push.ts') },
      rm: {
        summary: 'Remove one or more images',
        aliases: ['remove'],
        load: () => import('./image/rm.ts'),
      },
      save: {
        summary: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
        load: () => import('./image/save.ts'),
      },
      tag: {
        summary: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
        load: () => import('./image/tag.ts'),
      },
    },
  },
  network: {
    summary: 'Manage networks',
    verbs: {
      connect: { summary: 'Connect a container to a network', load: () => import('./network/connect.ts') },
      create: { summary: 'Create a network', load: () => import('./network/create.ts') },
      disconnect: {
        summary: 'Disconnect a container from a network',
        load: () => import('./network/disconnect.ts'),
      },
      inspect: {
        summary: 'Display detailed information on one or more networks',
        load: () => import('./network/inspect.ts'),
      },
      ls: { summary: 'List networks', aliases: ['list'], load: () => import('./network/ls.ts') },
      prune: { summary: 'Remove all unused networks', load: () => import('./network/prune.ts') },
      rm: {
        summary: 'Remove one or more networks',
        aliases: ['remove'],
        load: () => import('./network/rm.ts'),
      },
    },
  },
  volume: {
    summary: 'Manage volumes',
    verbs: {
      create: { summary: 'Create a volume', load: () => import('./volume/create.ts') },
      inspect: {
        summary: 'Display detailed information on one or more volumes',
        load: () => import('./volume/inspect.ts'),
      },
      ls: { summary: 'List volumes', aliases: ['list'], load: () => import('./volume/ls.ts') },
      prune: { summary: 'Remove unused local volumes', load: () => import('./volume/prune.ts') },
      rm: {
        summary: 'Remove one or more volumes',
        aliases: ['remove'],
        load: () => import('./volume/rm.ts'),
      },
    },
  },
  system: {
    summary: 'Manage skiff',
    verbs: {
      df: { summary: 'Show skiff disk usage', load: () => import('./system/df.ts') },
      // docker's top-level `login` / `logout`: reached only as `skiff login` / `skiff logout`.
      login: { summary: 'Log in to a registry', hidden: true, load: () => import('./system/login.ts') },
      logout: { summary: 'Log out from a registry', hidden: true, load: () => import('./system/logout.ts') },
      prune: { summary: 'Remove unused data', load: () => import('./system/prune.ts') },
      boot: {
        summary: 'Start the containers whose restart policy brings them back after a reboot',
        load: () => import('./system/boot.ts'),
      },
      events: { summary: 'Get real time events from the server', load: () => import('./system/events.ts') },
      service: {
        summary: 'Run the resident service that runs skiff commands without starting a process each',
        load: () => import('./system/service.ts'),
      },
    },
  },
};

/** docker's top-level shortcuts: `skiff images` = `skiff image ls`. */
export const TOP_LEVEL: Readonly<Record<string, readonly [noun: string, verb: string]>> = {
  attach: ['container', 'attach'],
  create: ['container', 'create'],
  exec: ['container', 'exec'],
  export: ['container', 'export'],
  run: ['container', 'run'],
  start: ['container', 'start'],
  stats: ['container', 'stats'],
  history: ['image', 'history'],
  images: ['image', 'ls'],
  import: ['image', 'import'],
  inspect: ['container', 'inspect-any'],
  kill: ['container', 'kill'],
  load: ['image', 'load'],
  logs: ['container', 'logs'],
  ps: ['container', 'ls'],
  pull: ['image', 'pull'],
  push: ['image', 'push'],
  login: ['system', 'login'],
  logout: ['system', 'logout'],
  restart: ['container', 'restart'],
  rm: ['container', 'rm'],
  rmi: ['image', 'rm'],
  save: ['image', 'save'],
  stop: ['container', 'stop'],
  tag: ['image', 'tag'],
  wait: ['container', 'wait'],
  cp: ['container', 'cp'],
  pause: ['container', 'pause'],
  port: ['container', 'port'],
  top: ['container', 'top'],
  unpause: ['container', 'unpause'],
  update: ['container', 'update'],
  diagnose: ['container', 'diagnose'],
  events: ['system', 'events'],
  rename: ['container', 'rename'],
};

/** The verb entry a noun's verb (or one of its aliases) names. */
export function findVerb(noun: string, verb: string): { name: string; entry: VerbEntry } | undefined {
  const verbs = NOUNS[noun]?.verbs;
  if (!verbs) return undefined;
  for (const [name, entry] of Object.entries(verbs))
    if (name === verb || entry.aliases?.includes(verb)) return { name, entry };
  return undefined;
}

/** Every way to call noun verb, for the Aliases section of its help. */
export function aliasesOf(noun: string, verb: string): string[] {
  const entry = NOUNS[noun]!.verbs[verb]!;
  const names = entry.hidden ? [] : [verb, ...(entry.aliases ?? [])].map((v) => `skiff ${noun} ${v}`);
  for (const [top, [n, v]] of Object.entries(TOP_LEVEL))
    if (n === noun && v === verb) names.push(`skiff ${top}`);
  return names;
}
