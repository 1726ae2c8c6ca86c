// PLACEHOLDER until the VOL branch lands (replaced at merge).
import type { Engine } from './engine.ts';
import type { Container } from './records.ts';
export async function removeAnonymousVolumes(_engine: Engine, _c: Container): Promise<void> {}
