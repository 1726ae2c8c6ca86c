/** The text of `skiff diagnose`: the report's sections as an operator reads them, findings last. */
import type {
  CgroupFacts,
  DiagnoseReport,
  NamespaceFacts,
  PressureFacts,
  ProcessFacts,
  RootfsFacts,
  UsageAgainstLimit,
} from '../../../engine/index.ts';
import { bytes } from '../../../engine/index.ts';

const pct = (ratio: number | null | undefined) =>
  ratio === null || ratio === undefined ? '' : ` (${Math.round(ratio * 100)}%)`;
const secs = (ms: number) => `${Number((ms / 1000).toFixed(1))} s`;
const indent = (text: string, by = '  ') =>
  text
    .split('\n')
    .map((l) => (l === '' ? l : by + l))
    .join('\n');

/** Rows as left-aligned columns two spaces apart (the last column is not padded). */
function columns(rows: readonly string[][]): string {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, [...cell].length);
    });
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i < row.length - 1 ? cell + ' '.repeat(widths[i]! - [...cell].length + 2) : cell))
        .join('')
        .trimEnd(),
    )
    .join('\n');
}

export function renderDiagnose(r: DiagnoseReport): string {
  const parts = [header(r)];
  if (r.process) parts.push(processes(r.process));
  if (r.namespaces.length > 0) parts.push(namespaces(r.namespaces));
  if (r.cgroup) parts.push(cgroup(r.cgroup, r.intervalMs));
  if (r.rootfs) parts.push(rootfs(r.rootfs));
  if (r.limits) {
    const rows = [
      [
        'fds',
        r.limits.fds
          ? `${usage(r.limits.fds, String)}, PID ${r.limits.fds.pid} (${r.limits.fds.command})`
          : 'unreadable',
      ],
      ['pids', r.limits.pids ? usage(r.limits.pids, String) : 'no pids controller'],
      ['memory', r.limits.memory ? usage(r.limits.memory, bytes) : 'no memory controller'],
    ];
    parts.push(`Limits:\n${indent(columns(rows))}`);
  }
  parts.push(findings(r));
  return `${parts.join('\n\n')}\n`;
}

function usage(u: UsageAgainstLimit, show: (n: number) => string): string {
  return u.limit === null
    ? `${show(u.used)}, no limit`
    : `${show(u.used)} of ${show(u.limit)}${pct(u.ratio)}`;
}

function header(r: DiagnoseReport): string {
  const who = `Container ${r.id.slice(0, 12)} (${r.name}), image ${r.image}`;
  if (r.process) return `${who}: running, host PID ${r.process.pid}, sampled over ${secs(r.intervalMs)}`;
  const exit = r.lastExit;
  const last = exit
    ? `; last exit: code ${exit.exitCode}${exit.oomKilled ? ', OOM killed' : ''}${exit.finishedAt ? ` at ${exit.finishedAt}` : ''}${exit.error ? ` (${exit.error})` : ''}`
    : '';
  return `${who}: not running (${r.state})${last}`;
}

function processes(p: ProcessFacts): string {
  const states = Object.entries(p.states)
    .map(([s, n]) => `${s} ${n}`)
    .join(', ');
  const rows = [['PID', 'NSPID', 'STATE', 'THREADS', 'FDS', 'COMMAND']];
  for (const proc of p.processes) {
    const cmd = proc.args.length > 0 ? proc.args.join(' ') : `[${proc.command}]`;
    const state = proc.state === 'D' && proc.dStateMs > 0 ? `D ${secs(proc.dStateMs)}` : proc.state;
    rows.push([
      String(proc.pid),
      proc.nsPid === null ? '-' : String(proc.nsPid),
      state,
      String(proc.threads),
      proc.fds === null ? '-' : String(proc.fds),
      `${'  '.repeat(proc.depth)}${cmd.length > 80 ? `${cmd.slice(0, 77)}...` : cmd}`,
    ]);
  }
  const count = `${p.processes.length} ${p.processes.length === 1 ? 'process' : 'processes'}`;
  return `Processes (${count}, ${p.threads} ${p.threads === 1 ? 'thread' : 'threads'}; ${states}):\n${indent(columns(rows))}`;
}

function namespaces(list: readonly NamespaceFacts[]): string {
  const rows = list.map((ns) => {
    // Every container shares what it shares with the host: naming them all says nothing more.
    const shared = ns.sharedWithHost ? ['the host'] : ns.sharedWith;
    return [
      ns.type,
      ns.inode === null ? '-' : String(ns.inode),
      ns.inode === null
        ? 'not offered by this kernel'
        : shared.length > 0
          ? `shared with ${shared.join(', ')}`
          : 'own',
    ];
  });
  const reference =
    list[0]?.hostReference === '/proc/self/ns' ? " (host = skiff's own: /proc/1/ns is unreadable)" : '';
  return `Namespaces${reference}:\n${indent(columns(rows))}`;
}

function limitText(n: number | null, show: (n: number) => string = bytes): string {
  return n === null ? 'none' : show(n);
}

function cgroup(cg: CgroupFacts, intervalMs: number): string {
  const lines: string[] = [];
  const paths = Object.entries(cg.paths);
  const distinct = new Set(paths.map(([, p]) => p));
  if (distinct.size === 1) lines.push(`path      ${paths[0]?.[1]} (${paths.map(([k]) => k).join(' ')})`);
  else for (const [key, p] of paths) lines.push(`path      ${key}: ${p}`);
  const m = cg.memory;
  if (m) {
    lines.push(
      `memory    ${bytes(m.workingSet)} working set, ${bytes(m.usage)} with cache, limit ${limitText(m.limit)}${pct(m.limit ? m.workingSet / m.limit : null)}; reservation ${limitText(m.reservation)}; memory+swap ${limitText(m.swapLimit)}${m.high !== null ? `; high ${bytes(m.high)}` : ''}${m.peak !== null ? `; peak ${bytes(m.peak)}` : ''}`,
    );
    const e = m.events;
    const events =
      m.version === 2
        ? `oom ${e.oom}, oom_kill ${e.oomKill}, high ${e.high}, max ${e.max}`
        : `oom_kill ${e.oomKill}, failcnt ${e.failcnt ?? '?'}${e.underOom ? ', under_oom' : ''}`;
    lines.push(`          events: ${events}`);
  }
  const c = cg.cpu;
  if (c) {
    const quota =
      c.quotaUs !== null && c.periodUs !== null
        ? `quota ${c.quotaUs} µs per ${c.periodUs} µs (${Number((c.cpus ?? 0).toFixed(3))} CPUs)`
        : 'no quota';
    const weight =
      c.shares !== null ? `, shares ${c.shares}` : c.weight !== null ? `, weight ${c.weight}` : '';
    const set = c.cpuset ? `; cpuset cpus ${c.cpuset.cpus || '-'} mems ${c.cpuset.mems || '-'}` : '';
    const used = c.usageNs !== null ? `; used ${secs(c.usageNs / 1e6)} of CPU` : '';
    lines.push(`cpu       ${quota}${weight}${set}${used}`);
    const { window, sinceStart, throttledTimeNs } = c.throttling;
    if (sinceStart.periods > 0)
      lines.push(
        `          throttled ${window.throttled} of ${window.periods} periods over the last ${secs(intervalMs)}${pct(window.ratio)}, ${sinceStart.throttled} of ${sinceStart.periods} since start${pct(sinceStart.ratio)}, ${secs(throttledTimeNs / 1e6)} in all`,
      );
  }
  if (cg.pids)
    lines.push(
      `pids      ${cg.pids.current}${cg.pids.max === null ? ', no limit' : ` of ${cg.pids.max}`}${cg.pids.refusedForks ? `; ${cg.pids.refusedForks} forks refused` : ''}`,
    );
  if (cg.io) {
    const w = [
      cg.io.weight !== null ? `weight ${cg.io.weight}` : '',
      cg.io.bfqWeight !== null ? `bfq weight ${cg.io.bfqWeight}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    lines.push(`io        ${w || 'no weight offered'}`);
  }
  lines.push(`pressure  ${pressure(cg.pressure)}`);
  if (cg.frozen) lines.unshift('state     paused (frozen): its processes show as D while frozen');
  return `Cgroup (${cg.layout}):\n${indent(lines.join('\n'))}`;
}

function pressure(p: PressureFacts): string {
  if (p.scope === 'unavailable') return 'unavailable (this kernel offers no PSI)';
  const one = (name: string, r: PressureFacts['cpu']) =>
    r ? `${name} some ${r.some.avg10}%${r.full ? ` full ${r.full.avg10}%` : ''}` : `${name} -`;
  const scope =
    p.scope === 'cgroup' ? "the container's cgroup" : 'the whole host: no cgroup2 PSI for the container';
  return `${one('cpu', p.cpu)}, ${one('memory', p.memory)}, ${one('io', p.io)} (avg10; ${scope})`;
}

function rootfs(fs: RootfsFacts): string {
  const rows: string[][] = [];
  fs.layers.forEach((l, i) => {
    rows.push([
      `layer ${i + 1}`,
      l.diffId ? l.diffId.replace(/^sha256:/, '').slice(0, 12) : 'not an image layer',
      l.size === null ? '' : bytes(l.size),
      l.dir,
    ]);
  });
  rows.push(['upper', 'writable layer', bytes(fs.writableSize), fs.upperDir ?? '-']);
  const from = fs.source === 'mountinfo' ? "the container's mount table" : 'the snapshot';
  return `Root filesystem (${fs.driver}, from ${from}):\n${indent(columns(rows))}`;
}

function findings(r: DiagnoseReport): string {
  if (r.findings.length === 0) return 'No problems found.';
  const lines = r.findings.map(
    (f) =>
      `${f.severity === 'error' ? 'ERROR' : 'WARNING'}: ${f.message}\n${f.evidence.map((e) => `    ${e}`).join('\n')}`,
  );
  return `Findings:\n${indent(lines.join('\n'))}`;
}
