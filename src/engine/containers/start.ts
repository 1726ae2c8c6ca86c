/**
 * The two halves of a container's making: `prepareContainer` at create (image, merged config,
 * snapshot, volumes, the /etc files) and `startContainerProcess` at each start (the rootfs — mounted
 * by the shim, or first by the engine for a volume copy-up (./rootfs.ts) —, the OCI bundle, the
 * runtime's create under a monitor, then start).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { invalidArgument, writeFileAtomic } from '../../common/index.ts';
import { prepareRootfs } from '../../image/index.ts';
import { CREATE_CWD_ANNOTATION, type MonitorTimer } from '../../runtime/index.ts';
import type { ContainerConfig } from '../docker-types.ts';
import { containerFiles } from '../files.ts';
import { probeOf, probeSchedule, validateHealthcheck } from '../health/probe.ts';
import { resolveMounts } from '../mounts.ts';
import {
  checkNetworkExists,
  connectContainer,
  readNetworkState,
  saveDesiredNetworks,
} from '../networks/index.ts';
import {
  buildSpec,
  logOptions,
  mergeImageConfig,
  validateContainerConfig,
  validateHostConfig,
} from '../spec/index.ts';
import type { CreateRequest, Engine, StartHooks } from './engine.ts';
import { findImage, imageRuntimeConfig } from './images.ts';
import type { Container } from './records.ts';
import { prepareStartRootfs } from './rootfs.ts';
import { pausePoint } from './test-pause.ts';

export interface PreparedContainer {
  imageId: string;
  config: ContainerConfig;
  /** Makes the container's files once its record exists (snapshot, volumes, /etc files). */
  materialise(c: Container): Promise<void>;
}

export async function prepareContainer(engine: Engine, request: CreateRequest): Promise<PreparedContainer> {
  const store = await engine.imageStore();
  // docker's pull event for the image `run` pulled (moby: ID the reference, name its repository).
  const image = await findImage(
    store,
    request.config.Image ?? '',
    request.pull ?? 'missing',
    request.pullLog,
    (ref) => engine.events.emit('image', 'pull', ref, { name: ref.replace(/(@.*|:[^:/]*)$/, '') }),
  );
  const config = mergeImageConfig(request.config, await imageRuntimeConfig(store, image));
  if (!config.Entrypoint?.length && !config.Cmd?.length)
    throw invalidArgument('No command specified: give one after the image name, or use --entrypoint');
  // Refused at create, as dockerd does, rather than at the first start.
  validateContainerConfig(config);
  validateHostConfig(request.hostConfig);
  validateHealthcheck(config.Healthcheck);
  logOptions(request.hostConfig.LogConfig);
  await checkNetworkExists(engine.paths, request.hostConfig);
  return {
    imageId: image.id,
    config,
    async materialise(c) {
      const dir = engine.paths_(c).dir;
      await fs.mkdir(dir, { recursive: true, mode: 0o700 });
      await prepareRootfs(store, image.id, c.id, { snapshotter: engine.snapshotter() });
      c.mounts = await resolveMounts(engine.volumes, c.hostConfig, config.Volumes, c.id);
      await saveDesiredNetworks(engine.paths, c, request.networking?.EndpointsConfig);
      await writeEtcFiles(dir, c);
    },
  };
}

async function writeEtcFiles(dir: string, c: Container): Promise<void> {
  const files = await containerFiles(c.config, c.hostConfig, c.id);
  await writeFileAtomic(path.join(dir, 'hostname'), files.hostname, 0o644);
  await writeFileAtomic(path.join(dir, 'hosts'), files.hosts, 0o644);
  await writeFileAtomic(path.join(dir, 'resolv.conf'), files.resolvConf, 0o644);
}

export async function startContainerProcess(
  engine: Engine,
  c: Container,
  exitCommand: string[],
  hooks: StartHooks,
): Promise<void> {
  const p = engine.paths_(c);
  const rootfs = await prepareStartRootfs(engine, c, p.rootfs);
  const netns = await connectContainer(engine.paths, c, () => engine.records.list());
  for (const a of readNetworkState(engine.paths, c.id)?.attachments ?? [])
    engine.emitNetwork('connect', a.network, a.networkId, c.id);
  const spec = buildSpec({
    id: c.id,
    config: c.config,
    hostConfig: c.hostConfig,
    rootfs: p.rootfs,
    mounts: c.mounts,
    files: {
      hostname: path.join(p.dir, 'hostname'),
      hosts: path.join(p.dir, 'hosts'),
      resolvConf: path.join(p.dir, 'resolv.conf'),
    },
    user: rootfs.user,
    ...(netns ? { netns } : {}),
  });
  // The shim mounts the rootfs: a missing WorkingDir is made by the container's init (PLAN.md mkdir-cwd).
  if (rootfs.shimMounts) spec.annotations = { ...spec.annotations, [CREATE_CWD_ANNOTATION]: 'true' };
  await writeFileAtomic(path.join(p.dir, 'config.json'), JSON.stringify(spec));
  await fs.mkdir(p.monitor, { recursive: true, mode: 0o700 });
  const options = {
    id: c.id,
    bundle: p.dir,
    spec,
    monitor: {
      dir: p.monitor,
      ...monitorLog(c, p.log),
      stdin: c.config.OpenStdin ?? false,
      oomFile: 'auto',
      exitCommand,
      ...(rootfs.shimMounts ? { unmount: p.rootfs } : {}),
      ...healthTimer(engine, c),
    },
    ...(rootfs.shimMounts ? { rootfsMounts: rootfs.shimMounts } : {}),
  };
  const created = await engine.runtime.create(options);
  c.pid = created.record.pid;
  c.pidStartTime = created.record.pidStartTime;
  pausePoint('start:created');
  await hooks.beforeStart?.(p.monitor, c);
  // Taken before the program is released: a program that ends at once (hello-world) is recorded by
  // its monitor as finished before start() returns, and FinishedAt must not precede StartedAt.
  const startedAt = new Date().toISOString();
  await engine.runtime.start(c.id);
  pausePoint('start:started');
  c.state = 'running';
  c.startedAt = startedAt;
  c.exitCode = 0;
  c.oomKilled = false;
}

/** The monitor's json-file settings (none: no log file at all). */
function monitorLog(
  c: Container,
  file: string,
): { logFile?: string; logMaxSize?: number; logMaxFiles?: number } {
  const log = logOptions(c.hostConfig.LogConfig);
  if (log.driver === 'none') return {};
  return { logFile: file, ...(log.maxSize ? { logMaxSize: log.maxSize } : {}), logMaxFiles: log.maxFiles };
}

/** The monitor's timer that runs the container's health checks (none without a probe). */
function healthTimer(engine: Engine, c: Container): { timer?: MonitorTimer } {
  const probe = probeOf(c.config);
  if (!probe) return {};
  return { timer: { ...probeSchedule(probe), command: engine.healthCheckCommand(c.id) } };
}
