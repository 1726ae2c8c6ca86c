/**
 * dockerd's merge of the image's config under the user's (daemon/create.go `merge`): the result is what
 * the engine stores as the container's Config and what `inspect` prints.
 */
import type { ContainerConfig, HealthConfig } from '../docker-types.ts';

/** The `config` object of an OCI image config (image-spec config.md), as images carry it. */
export interface ImageRunConfig {
  readonly User?: string;
  readonly ExposedPorts?: Record<string, object>;
  readonly Env?: readonly string[];
  readonly Entrypoint?: readonly string[] | null;
  readonly Cmd?: readonly string[] | null;
  readonly Volumes?: Record<string, object>;
  readonly WorkingDir?: string;
  readonly Labels?: Record<string, string>;
  readonly StopSignal?: string;
  readonly ArgsEscaped?: boolean;
  readonly Healthcheck?: HealthConfig;
  readonly [key: string]: unknown;
}

const keyOf = (entry: string) => entry.split('=', 1)[0]!;
const emptySet = (keys: Iterable<string>) =>
  Object.fromEntries([...keys].map((k) => [k, {}])) as Record<string, Record<string, never>>;

function mergeHealthcheck(
  user: HealthConfig | undefined,
  image: HealthConfig | undefined,
): HealthConfig | undefined {
  if (!image) return user;
  if (!user) return { ...image };
  const merged: HealthConfig = { ...user };
  if (!user.Test?.length && image.Test) merged.Test = image.Test;
  for (const key of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'] as const)
    if (!user[key] && image[key]) merged[key] = image[key];
  return merged;
}

/**
 * The user's config completed from the image's. An Entrypoint given by the user (`--entrypoint`,
 * even `--entrypoint ""`) drops the image's Cmd and Entrypoint: only the user's Cmd then follows it.
 */
export function mergeImageConfig(
  config: ContainerConfig,
  image: ImageRunConfig | undefined,
): ContainerConfig {
  const img = image ?? {};
  const out: ContainerConfig = { ...config };
  if (!out.User) out.User = img.User ?? '';
  const userPorts = Object.keys(out.ExposedPorts ?? {});
  out.ExposedPorts =
    userPorts.length === 0 && !img.ExposedPorts
      ? out.ExposedPorts
      : emptySet(new Set([...userPorts, ...Object.keys(img.ExposedPorts ?? {})]));
  if (!out.Env?.length) out.Env = img.Env ? [...img.Env] : (out.Env ?? null);
  else {
    const userKeys = new Set(out.Env.map(keyOf));
    out.Env = [...out.Env, ...(img.Env ?? []).filter((e) => !userKeys.has(keyOf(e)))];
  }
  out.Labels = { ...(img.Labels ?? {}), ...(out.Labels ?? {}) };
  if (!out.Entrypoint?.length) {
    if (!out.Cmd?.length) {
      out.Cmd = img.Cmd ? [...img.Cmd] : (out.Cmd ?? null);
      if (img.ArgsEscaped !== undefined) out.ArgsEscaped = img.ArgsEscaped;
    }
    if (out.Entrypoint == null) out.Entrypoint = img.Entrypoint ? [...img.Entrypoint] : null;
  }
  const health = mergeHealthcheck(out.Healthcheck, img.Healthcheck);
  if (health) out.Healthcheck = health;
  if (!out.WorkingDir) out.WorkingDir = img.WorkingDir ?? '';
  const userVolumes = Object.keys(out.Volumes ?? {});
  if (userVolumes.length > 0 || img.Volumes)
    out.Volumes = emptySet(new Set([...userVolumes, ...Object.keys(img.Volumes ?? {})]));
  if (!out.StopSignal && img.StopSignal) out.StopSignal = img.StopSignal;
  return out;
}
