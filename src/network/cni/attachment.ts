/**
 * Executing a network configuration list on a container (cni-spec.md, section 3): ADD runs the
 * plugins in order, each given the previous one's result; DEL runs them in reverse, each given the
 * final result of the ADD; CHECK runs them in order with that result. The configuration and the
 * result are cached per attachment (network, container ID, interface) on disk, as libcni does, so
 * that a DEL — possibly by another process, after a crash — sees exactly what the ADD used. The cache
 * entry is written BEFORE the first plugin runs: an ADD interrupted midway is still DELeted (the spec
 * requires a DEL after every ADD, failed or not), and removed only once the DEL succeeded.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { hasErrno, invalidArgument, syscallError, writeFileAtomic } from '../../common/index.ts';
import { type NetworkConfigList, type PluginConfig, parseConfigList } from './config.ts';
import { type CniCommand, findPlugin, invokePlugin } from './plugin.ts';
import type { CniResult } from './result.ts';
import { candidateVersions, selectVersion } from './version.ts';

/** The parameters of one attachment (section 3, "Attachment Parameters"). */
export interface Attachment {
  readonly containerId: string;
  /** Path of the (pinned) network namespace. */
  readonly netns: string;
  readonly ifName: string;
  /** CNI_ARGS: key=value pairs given to every plugin. */
  readonly args?: Readonly<Record<string, string>>;
  /** Capability arguments (CONVENTIONS.md: portMappings, ips, mac, aliases, …). */
  readonly capabilityArgs?: Readonly<Record<string, unknown>>;
}

export interface CniOptions {
  /** Where plugin executables are looked up, in order. */
  readonly pluginDirs: readonly string[];
  /** Where attachments are cached (a directory the runtime owns). */
  readonly cacheDir: string;
}

/** What the cache holds for one attachment. */
export interface CachedAttachment {
  readonly kind: 'skiff-cni#v1';
  readonly networkName: string;
  readonly containerId: string;
  readonly ifName: string;
  readonly netns: string;
  readonly cniVersion: string;
  /** The configuration list's bytes as the ADD used them. */
  readonly config: string;
  readonly args?: Readonly<Record<string, string>>;
  readonly capabilityArgs?: Readonly<Record<string, unknown>>;
  /** Absent until the ADD completed. */
  readonly result?: CniResult;
}

// CNI_CONTAINERID: "Must start with an alphanumeric character, optionally followed by …".
const CONTAINER_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const IF_NAME = /^[^/\s:]{1,15}$/;
const ARG = /^[a-zA-Z0-9_]+$/;

export class Cni {
  readonly pluginDirs: readonly string[];
  readonly cacheDir: string;
  private readonly versions = new Map<string, readonly string[]>();

  constructor(options: CniOptions) {
    this.pluginDirs = options.pluginDirs;
    this.cacheDir = options.cacheDir;
  }

  /** ADD: attaches the container; returns the final result (also cached). */
  async add(list: NetworkConfigList, attachment: Attachment): Promise<CniResult> {
    checkAttachment(attachment);
    const executables = await this.executables(list);
    const cniVersion = await this.version(list, executables);
    const entry: CachedAttachment = {
      kind: 'skiff-cni#v1',
      networkName: list.name,
      containerId: attachment.containerId,
      ifName: attachment.ifName,
      netns: attachment.netns,
      cniVersion,
      config: list.bytes,
      ...(attachment.args ? { args: attachment.args } : {}),
      ...(attachment.capabilityArgs ? { capabilityArgs: attachment.capabilityArgs } : {}),
    };
    await this.writeCache(entry);
    let prevResult: CniResult | undefined;
    for (const [i, plugin] of list.plugins.entries())
      prevResult = (await this.call('ADD', list, plugin, executables[i]!, entry, prevResult)) as CniResult;
    if (!prevResult) throw invalidArgument(`network ${list.name}: its last plugin returned no result`);
    await this.writeCache({ ...entry, result: prevResult });
    return prevResult;
  }

  /**
   * DEL: detaches the container, from the cached configuration and result when there is an entry
   * (given `list` otherwise). Succeeds when nothing was attached. The cache entry goes last.
   */
  async del(
    networkName: string,
    attachment: Omit<Attachment, 'netns'> & { netns?: string },
    list?: NetworkConfigList,
  ) {
    const cached = await this.cached(networkName, attachment.containerId, attachment.ifName);
    const config = cached
      ? parseConfigList(cached.config, `cached configuration of network ${networkName}`)
      : list;
    if (!config) return;
    const entry: CachedAttachment = cached ?? {
      kind: 'skiff-cni#v1',
      networkName,
      containerId: attachment.containerId,
      ifName: attachment.ifName,
      netns: attachment.netns ?? '',
      cniVersion: candidateVersions(config)[0]!,
      config: config.bytes,
      ...(attachment.args ? { args: attachment.args } : {}),
      ...(attachment.capabilityArgs ? { capabilityArgs: attachment.capabilityArgs } : {}),
    };
    const executables = await this.executables(config);
    const plugins = [...config.plugins.entries()].reverse();
    for (const [i, plugin] of plugins)
      await this.call('DEL', config, plugin, executables[i]!, entry, entry.result);
    await rm(this.cacheFile(networkName, attachment.containerId, attachment.ifName), { force: true });
  }

  /** CHECK: asks every plugin whether the attachment is still as ADD left it (no-op with disableCheck). */
  async check(networkName: string, attachment: Pick<Attachment, 'containerId' | 'ifName'>): Promise<void> {
    const cached = await this.cached(networkName, attachment.containerId, attachment.ifName);
    if (!cached?.result)
      throw invalidArgument(
        `network ${networkName}: container ${attachment.containerId} (${attachment.ifName}) is not attached`,
      );
    const config = parseConfigList(cached.config, `cached configuration of network ${networkName}`);
    if (config.disableCheck) return;
    const executables = await this.executables(config);
    for (const [i, plugin] of config.plugins.entries())
      await this.call('CHECK', config, plugin, executables[i]!, cached, cached.result);
  }

  /** The cached attachment, or undefined. */
  async cached(
    networkName: string,
    containerId: string,
    ifName: string,
  ): Promise<CachedAttachment | undefined> {
    const file = this.cacheFile(networkName, containerId, ifName);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if (hasErrno(err, 'ENOENT')) return undefined;
      throw syscallError('read', file, err);
    }
    try {
      return JSON.parse(text) as CachedAttachment;
    } catch {
      throw invalidArgument(
        `CNI cache entry ${file} is corrupt; remove it after checking the network by hand`,
      );
    }
  }

  private cacheFile(networkName: string, containerId: string, ifName: string): string {
    return path.join(this.cacheDir, `${networkName}-${containerId}-${ifName}.json`);
  }

  private async writeCache(entry: CachedAttachment): Promise<void> {
    const file = this.cacheFile(entry.networkName, entry.containerId, entry.ifName);
    await mkdir(this.cacheDir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(file, JSON.stringify(entry));
  }

  private executables(list: NetworkConfigList): Promise<string[]> {
    return Promise.all(list.plugins.map((p) => findPlugin(p.type, this.pluginDirs)));
  }

  /** One offered version: used as is; several: narrowed by the plugins' VERSION answers (cached). */
  private async version(list: NetworkConfigList, executables: readonly string[]): Promise<string> {
    const candidates = candidateVersions(list);
    if (candidates.length === 1) return candidates[0]!;
    const supported: (readonly string[])[] = [];
    for (const [i, executable] of executables.entries()) {
      let versions = this.versions.get(executable);
      if (!versions) {
        const answer = (await invokePlugin({
          type: list.plugins[i]!.type,
          executable,
          command: 'VERSION',
          env: {},
          pluginDirs: this.pluginDirs,
          request: { cniVersion: candidates[0] },
          context: `network ${list.name}`,
        })) as { supportedVersions?: unknown } | undefined;
        versions = Array.isArray(answer?.supportedVersions) ? (answer.supportedVersions as string[]) : [];
        this.versions.set(executable, versions);
      }
      supported.push(versions);
    }
    return selectVersion(list, supported);
  }

  private call(
    command: CniCommand,
    list: NetworkConfigList,
    plugin: PluginConfig,
    executable: string,
    entry: CachedAttachment,
    prevResult: CniResult | undefined,
  ): Promise<unknown> {
    return invokePlugin({
      type: plugin.type,
      executable,
      command,
      env: {
        CNI_CONTAINERID: entry.containerId,
        CNI_NETNS: entry.netns,
        CNI_IFNAME: entry.ifName,
        ...(entry.args ? { CNI_ARGS: formatArgs(entry.args) } : {}),
      },
      pluginDirs: this.pluginDirs,
      request: requestConfig(list, plugin, entry, prevResult),
      context: `network ${list.name}, container ${entry.containerId}`,
    });
  }
}

/**
 * The request configuration of one plugin ("Deriving request configuration"): the plugin's object
 * with cniVersion and name inserted, runtimeConfig from the capabilities it declares and the runtime
 * provides, prevResult when there is one, and `capabilities` removed.
 */
export function requestConfig(
  list: NetworkConfigList,
  plugin: PluginConfig,
  entry: Pick<CachedAttachment, 'cniVersion' | 'capabilityArgs'>,
  prevResult: CniResult | undefined,
): Record<string, unknown> {
  const { capabilities, ...rest } = plugin;
  const runtimeConfig: Record<string, unknown> = {};
  for (const [name, enabled] of Object.entries(capabilities ?? {}))
    if (enabled && entry.capabilityArgs?.[name] !== undefined)
      runtimeConfig[name] = entry.capabilityArgs[name];
  return {
    ...rest,
    cniVersion: entry.cniVersion,
    name: list.name,
    ...(Object.keys(runtimeConfig).length ? { runtimeConfig } : {}),
    ...(prevResult ? { prevResult } : {}),
  };
}

function formatArgs(args: Readonly<Record<string, string>>): string {
  return Object.entries(args)
    .map(([k, v]) => `${k}=${v}`)
    .join(';');
}

function checkAttachment(a: Attachment): void {
  if (!CONTAINER_ID.test(a.containerId))
    throw invalidArgument(
      `CNI container ID \`${a.containerId}\` must start with a letter or digit, then letters, digits, _ . -`,
    );
  if (!IF_NAME.test(a.ifName))
    throw invalidArgument(`interface name \`${a.ifName}\` must be 1 to 15 characters without /, : or spaces`);
  if (!path.isAbsolute(a.netns))
    throw invalidArgument(`network namespace \`${a.netns}\` must be an absolute path`);
  for (const [k, v] of Object.entries(a.args ?? {}))
    if (!ARG.test(k) || /[;=]/.test(v))
      throw invalidArgument(`CNI argument \`${k}=${v}\`: keys are alphanumeric, values without ; or =`);
}
