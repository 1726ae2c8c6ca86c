// PLACEHOLDER (the cli branch brings the real one).
import { Engine } from '../../../engine/index.ts';
import type { Context } from '../../command.ts';
export async function withEngine<T>(ctx: Context, fn: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = await Engine.open({ root: ctx.globals.root, runroot: ctx.globals.runroot });
  try {
    return await fn(engine);
  } finally {
    engine.close();
  }
}
export function containerError(err: unknown): unknown {
  return err;
}
