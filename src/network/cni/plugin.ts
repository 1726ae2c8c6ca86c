/**
 * Finding and executing one CNI plugin (cni-spec.md, section 2): parameters in CNI_* environment
 * variables, the request configuration on stdin, the result (or an error structure) on stdout.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { notFound, runtimeFailure, SkiffError, syscallError } from '../../common/index.ts';

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'GC' | 'STATUS';

/** The error structure of section 5, with the plugin and operation it came from. */
export class CniError extends SkiffError {
  readonly code: number | undefined;
  readonly plugin: string;
  readonly details: string | undefined;
  constructor(plugin: string, message: string, code?: number, details?: string, stderr?: string) {
    const tail = stderr?.trim() ? `\n${stderr.trim().split('\n').slice(-5).join('\n')}` : '';
    // 11: "Try again later"; 50/51: the plugin is not available.
    const kind = code === 11 || code === 50 || code === 51 ? 'Unavailable' : 'RuntimeFailure';
    super(kind, `${message}${tail}`);
    this.code = code;
    this.plugin = plugin;
    this.details = details;
  }
}

export interface PluginCall {
  /** The plugin's type (its file name), for messages. */
  readonly type: string;
  readonly executable: string;
  readonly command: CniCommand;
  /** CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS as the operation needs them. */
  readonly env: Readonly<Record<string, string>>;
  readonly pluginDirs: readonly string[];
  readonly request: unknown;
  /** What the call is for, in messages: "network skiff". */
  readonly context: string;
}

/** A plugin that has not answered in this long is killed: CNI plugins do not wait on anything long. */
const PLUGIN_TIMEOUT_MS = 60_000;

/** The executable for `type`: the first `dir/type` that is an executable regular file. */
export async function findPlugin(type: string, dirs: readonly string[]): Promise<string> {
  for (const dir of dirs) {
    const candidate = path.join(dir, type);
    try {
      if ((await stat(candidate)).isFile()) {
        await access(candidate, constants.X_OK);
        return candidate;
      }
    } catch {
      // Not here (or not executable): the next directory.
    }
  }
  throw notFound(
    `CNI plugin \`${type}\` not found in ${dirs.join(':')}: install it (Debian: containernetworking-plugins) or add its directory to the plugin path`,
  );
}

/** Runs the plugin; resolves with its parsed stdout (undefined when it printed nothing). */
export async function invokePlugin(call: PluginCall): Promise<unknown> {
  const { stdout, stderr, status } = await runPlugin(call);
  const text = stdout.trim();
  if (status !== 0) throw pluginFailure(call, text, stderr, status);
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new CniError(
      call.type,
      `CNI plugin ${call.type} (${call.context}) ${call.command}: its output is not JSON: ${text.slice(0, 200)}`,
      undefined,
      undefined,
      stderr,
    );
  }
}

function pluginFailure(call: PluginCall, stdout: string, stderr: string, status: number | string): CniError {
  const what = `CNI plugin ${call.type} (${call.context}) ${call.command} failed`;
  try {
    const e = JSON.parse(stdout) as { code?: unknown; msg?: unknown; details?: unknown };
    if (typeof e.msg === 'string') {
      const code = typeof e.code === 'number' ? e.code : undefined;
      const details = typeof e.details === 'string' && e.details ? e.details : undefined;
      return new CniError(
        call.type,
        `${what}: ${e.msg}${details ? `: ${details}` : ''}${code !== undefined ? ` (code ${code})` : ''}`,
        code,
        details,
        stderr,
      );
    }
  } catch {
    // Not the error structure: report what it printed.
  }
  return new CniError(
    call.type,
    `${what} (${status})${stdout ? `: ${stdout.slice(0, 500)}` : ''}`,
    undefined,
    undefined,
    stderr,
  );
}

function runPlugin(call: PluginCall): Promise<{ stdout: string; stderr: string; status: number | string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(call.executable, [], {
      env: {
        PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
        CNI_COMMAND: call.command,
        CNI_PATH: call.pluginDirs.join(':'),
        ...call.env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: PLUGIN_TIMEOUT_MS,
      killSignal: 'SIGKILL',
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(syscallError('spawn', call.executable, e)));
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (signal === 'SIGKILL' && code === null)
        reject(
          runtimeFailure(
            `CNI plugin ${call.type} (${call.context}) ${call.command} did not finish in ${PLUGIN_TIMEOUT_MS / 1000} s and was killed`,
          ),
        );
      else resolve({ stdout, stderr, status: code ?? `signal ${signal}` });
    });
    // A plugin that exits without reading its stdin must not fail the call with EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(JSON.stringify(call.request));
  });
}
