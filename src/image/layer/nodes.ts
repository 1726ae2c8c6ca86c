import { spawn } from 'node:child_process';
import { nativeTool, runtimeFailure, syscallError } from '../../common/index.ts';

/**
 * Node can neither mknod nor set xattrs; `skiff-layer-nodes` (native/tools/layer-nodes.c) does both,
 * resolving every path beneath the layer directory's fd. The operations of a layer are collected here
 * and performed in one run of the tool.
 */
export type NodeOperation =
  | {
      op: 'mknod';
      path: string;
      type: 'c' | 'b' | 'p';
      perm: number;
      major: number;
      minor: number;
      uid: number;
      gid: number;
      mtime: Date;
    }
  | { op: 'setxattr'; path: string; name: string; value: Buffer };

/** The tool's input: NUL-terminated fields, record after record (native/README.md). */
export function encodeNodeOperations(operations: readonly NodeOperation[]): Buffer {
  const fields: string[] = [];
  for (const o of operations) {
    if (o.op === 'mknod') {
      const ms = o.mtime.getTime();
      const sec = Math.max(0, Math.floor(ms / 1000));
      const nsec = ms < 0 ? 0 : (ms - sec * 1000) * 1_000_000;
      fields.push('mknod', o.path, o.type, (o.perm & 0o7777).toString(8), String(o.major), String(o.minor));
      fields.push(String(o.uid), String(o.gid), String(sec), String(nsec));
    } else {
      fields.push('setxattr', o.path, o.name, o.value.toString('hex'));
    }
  }
  return Buffer.from(fields.map((f) => `${f}\0`).join(''), 'utf8');
}

/** The tool: $SKIFF_LAYER_NODES, or native/build/skiff-layer-nodes of this checkout. */
export function layerNodesPath(): string {
  return nativeTool('skiff-layer-nodes', 'SKIFF_LAYER_NODES');
}

/** Performs the operations beneath `dir` in one run of the tool; its one-line error becomes ours. */
export async function performNodeOperations(
  dir: string,
  operations: readonly NodeOperation[],
): Promise<void> {
  if (operations.length === 0) return;
  const tool = layerNodesPath();
  const child = spawn(tool, [dir], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    if (stderr.length < 4096) stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', (err) => reject(syscallError('spawn', tool, err)));
    child.on('close', (code) => resolve(code));
  });
  // The tool stops reading on its first failure; its exit status says why, not EPIPE.
  child.stdin.on('error', () => {});
  child.stdin.end(encodeNodeOperations(operations));
  const code = await exited;
  if (code !== 0) {
    throw runtimeFailure(
      `layer nodes in \`${dir}\`: ${stderr.trim() || `skiff-layer-nodes exited with ${code}`}`,
    );
  }
}
