/**
 * Pull progress as docker shows it. The pull reports statuses in the shape of docker's JSONMessage
 * (moby's pkg/jsonmessage): `{status, progressDetail: {current, total}, id}`; these writers turn them
 * into one of docker's three forms:
 *   - terminal: one line per layer, redrawn in place with docker's cursor movements (a line per id,
 *     cursor up to it, clear it, write it, cursor back down), progress redraws at most 10 a second;
 *   - plain (stdout is not a terminal): one line per state change, progress updates left out;
 *   - json: one JSONMessage per line (what the Engine API's POST /images/create streams).
 */
import type { PullStatus } from './pull.ts';

export type ProgressMode = 'terminal' | 'plain' | 'json';

export interface ProgressWriterOptions {
  /** Terminal width (docker draws the bar only when it is wider than 110 columns). */
  readonly columns?: number;
  /** Least time between two redraws of progress in terminal mode (default 100 ms). */
  readonly intervalMs?: number;
}

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/** docker's units.HumanSize: decimal units, 4 significant digits (`1.235MB`, `512B`). */
export function humanSize(bytes: number): string {
  let size = bytes;
  let unit = 0;
  while (size >= 1000 && unit < DECIMAL_UNITS.length - 1) {
    size /= 1000;
    unit++;
  }
  return `${Number(size.toPrecision(4))}${DECIMAL_UNITS[unit]}`;
}

/** JSONProgress.String(): `[=====>      ]  1.2MB/3.4MB` (the bar only on a wide terminal). */
export function progressString(current: number, total: number | undefined, columns = 200): string {
  if (current <= 0 && (total ?? 0) <= 0) return '';
  if (total === undefined || total <= 0) return humanSize(current).padStart(8);
  const percentage = Math.min(50, Math.floor(Math.floor((current / total) * 100) / 2));
  const bar = columns > 110 ? `[${'='.repeat(percentage)}>${' '.repeat(50 - percentage)}] ` : '';
  return `${bar}${humanSize(current).padStart(8)}/${humanSize(total)}`;
}

/** Whether a status carries a progress figure (docker leaves those out when not on a terminal). */
function hasProgress(s: PullStatus): boolean {
  const detail = s.progressDetail;
  return detail !== undefined && ((detail.current ?? 0) > 0 || (detail.total ?? 0) > 0);
}

/** One status as docker's daemon streams it: a JSONMessage line. */
export function jsonMessageLine(s: PullStatus): string {
  const message: Record<string, unknown> = { status: s.status };
  if (s.progressDetail) {
    const detail: Record<string, number> = {};
    if (s.progressDetail.current) detail.current = s.progressDetail.current;
    if (s.progressDetail.total) detail.total = s.progressDetail.total;
    message.progressDetail = detail;
    const progress = hasProgress(s) ? progressString(detail.current ?? 0, detail.total) : '';
    if (progress) message.progress = progress;
  }
  if (s.id) message.id = s.id;
  return `${JSON.stringify(message)}\n`;
}

/**
 * Renders statuses in one of docker's forms onto write(). close() draws what is pending (call it
 * once the pull settled, also after a failure).
 */
export class PullProgressWriter {
  private readonly write: (text: string) => void;
  private readonly mode: ProgressMode;
  private readonly columns: number;
  private readonly intervalMs: number;
  /** Terminal: the line of each layer id, counted from the first one (docker's `ids`). */
  private lines = new Map<string, number>();
  /** Terminal: the newest progress status per id, not drawn yet. */
  private readonly pending = new Map<string, PullStatus>();
  private timer: NodeJS.Timeout | undefined;
  private lastDraw = 0;

  constructor(write: (text: string) => void, mode: ProgressMode, options: ProgressWriterOptions = {}) {
    this.write = write;
    this.mode = mode;
    this.columns = options.columns ?? 80;
    this.intervalMs = options.intervalMs ?? 100;
  }

  status(s: PullStatus): void {
    if (this.mode === 'json') {
      this.write(jsonMessageLine(s));
      return;
    }
    if (this.mode === 'plain') {
      if (!hasProgress(s)) this.write(s.id ? `${s.id}: ${s.status}\n` : `${s.status}\n`);
      return;
    }
    if (s.id !== undefined && s.progressDetail !== undefined && hasProgress(s)) {
      this.pending.set(s.id, s);
      this.schedule();
      return;
    }
    // A state change supersedes the progress queued for its line.
    if (s.id !== undefined) this.pending.delete(s.id);
    this.write(this.draw(s));
  }

  /** Draws what is pending; no timer stays behind. */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.flush();
  }

  private schedule(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.lastDraw + this.intervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, wait);
    this.timer.unref?.();
  }

  private flush(): void {
    if (this.pending.size === 0) return;
    let text = '';
    for (const s of this.pending.values()) text += this.draw(s);
    this.pending.clear();
    this.lastDraw = Date.now();
    this.write(text);
  }

  /** DisplayJSONMessagesStream + JSONMessage.Display of docker's CLI, for one message on a terminal. */
  private draw(s: PullStatus): string {
    let out = '';
    let diff = 0;
    if (s.id !== undefined && s.progressDetail !== undefined) {
      let line = this.lines.get(s.id);
      if (line === undefined) {
        line = this.lines.size;
        this.lines.set(s.id, line);
        out += '\n';
      }
      diff = this.lines.size - line;
      out += `\x1b[${diff}A`;
    } else {
      // Output that is not a layer's line: the lines above are history, no longer redrawn.
      this.lines = new Map();
    }
    const layerLine = s.progressDetail !== undefined;
    if (layerLine) out += '\x1b[2K\r';
    if (s.id) out += `${s.id}: `;
    const progress = hasProgress(s)
      ? progressString(s.progressDetail?.current ?? 0, s.progressDetail?.total, this.columns)
      : '';
    out += layerLine ? `${s.status} ${progress}\r` : `${s.status}\n`;
    if (diff > 0) out += `\x1b[${diff}B`;
    return out;
  }
}
