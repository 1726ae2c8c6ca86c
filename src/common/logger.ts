import { appendFileSync } from 'node:fs';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'text' | 'json';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LogSink {
  write(line: string): void;
}

/** A sink appending to a file (runc's `--log`); synchronous so that nothing is lost on exit. */
export function fileSink(file: string): LogSink {
  return { write: (line) => appendFileSync(file, line) };
}

export const stderrSink: LogSink = { write: (line) => process.stderr.write(line) };

/**
 * One logger with levels and bound fields. The json format matches runc's (`level`, `msg`, `time`),
 * which podman and conmon read back to show why a runtime call failed.
 */
export class Logger {
  private readonly sink: LogSink;
  private readonly level: LogLevel;
  private readonly format: LogFormat;
  private readonly fields: Readonly<Record<string, unknown>>;

  constructor(options: {
    sink: LogSink;
    level?: LogLevel;
    format?: LogFormat;
    fields?: Record<string, unknown>;
  }) {
    this.sink = options.sink;
    this.level = options.level ?? 'info';
    this.format = options.format ?? 'text';
    this.fields = options.fields ?? {};
  }

  child(fields: Record<string, unknown>): Logger {
    return new Logger({
      sink: this.sink,
      level: this.level,
      format: this.format,
      fields: { ...this.fields, ...fields },
    });
  }

  debug(msg: string, fields?: Record<string, unknown>): void {
    this.log('debug', msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.log('info', msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.log('warn', msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.log('error', msg, fields);
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] >= RANK[this.level];
  }

  private log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (!this.enabled(level)) return;
    const all = { ...this.fields, ...fields };
    const time = new Date().toISOString();
    if (this.format === 'json') {
      this.sink.write(`${JSON.stringify({ level, msg, ...all, time })}\n`);
      return;
    }
    const extra = Object.entries(all)
      .map(([k, v]) => ` ${k}=${typeof v === 'string' ? JSON.stringify(v) : String(v)}`)
      .join('');
    this.sink.write(`time="${time}" level=${level} msg=${JSON.stringify(msg)}${extra}\n`);
  }
}

/** A logger that drops everything (library default). */
export const silentLogger = new Logger({ sink: { write: () => {} }, level: 'error' });
