/** HostConfig.LogConfig checked as dockerd's json-file driver does, and read for the monitor. */
import { fromHumanSize, invalidArgument } from '../../common/index.ts';
import type { LogConfig } from '../docker-types.ts';

export interface LogOptions {
  readonly driver: 'json-file' | 'none';
  /** Bytes before rotation (--log-opt max-size, decimal units as Docker's: 10m = 10,000,000); undefined: never rotate. */
  readonly maxSize?: number;
  /** Files kept, the live one included (--log-opt max-file, default 1). */
  readonly maxFiles: number;
}

/** The options json-file accepts (moby daemon/logger/jsonfilelog ValidateLogOpt). */
const JSON_FILE_OPTS = new Set([
  'max-file',
  'max-size',
  'compress',
  'labels',
  'labels-regex',
  'env',
  'env-regex',
  'tag',
]);

export function logOptions(config: LogConfig | undefined): LogOptions {
  const driver = config?.Type || 'json-file';
  const opts = config?.Config ?? {};
  if (driver === 'none') {
    if (Object.keys(opts).length > 0) throw invalidArgument(`invalid logging opts for driver ${driver}`);
    return { driver, maxFiles: 1 };
  }
  if (driver !== 'json-file') throw invalidArgument(`logger: no log driver named '${driver}' is registered`);
  for (const key of Object.keys(opts))
    if (!JSON_FILE_OPTS.has(key)) throw invalidArgument(`unknown log opt '${key}' for json-file log driver`);
  let maxSize: number | undefined;
  if (opts['max-size'] !== undefined) {
    try {
      maxSize = fromHumanSize(opts['max-size']);
    } catch (err) {
      throw invalidArgument((err as Error).message, err);
    }
    if (maxSize <= 0) throw invalidArgument('max-size must be a positive number');
  }
  let maxFiles = 1;
  if (opts['max-file'] !== undefined) {
    maxFiles = /^-?\d+$/.test(opts['max-file']) ? Number(opts['max-file']) : Number.NaN;
    if (Number.isNaN(maxFiles))
      throw invalidArgument(`strconv.Atoi: parsing "${opts['max-file']}": invalid syntax`);
    if (maxFiles < 1) throw invalidArgument('max-file cannot be less than 1');
  }
  return { driver, ...(maxSize !== undefined && { maxSize }), maxFiles };
}
