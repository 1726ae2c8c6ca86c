/** One problem found in a config, `path` in OCI terms (`linux.resources.memory.limit`, `mounts[2]`). */
export interface ConfigIssue {
  path: string;
  message: string;
}

/**
 * A field path as the OCI spec writes it: `linux.resources.memory.limit`, `mounts[2].destination`,
 * `linux.sysctl["net.ipv4.ip_forward"]` (a key that is not a plain identifier is quoted).
 */
export function fieldPath(segments: readonly (string | number)[]): string {
  let path = '';
  for (const segment of segments) {
    if (typeof segment === 'number' || /^(0|[1-9][0-9]*)$/.test(segment)) path += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(segment)) path += path === '' ? segment : `.${segment}`;
    else path += `[${JSON.stringify(segment)}]`;
  }
  return path;
}
