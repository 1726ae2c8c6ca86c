import { constants } from 'node:os';
import { invalidArgument } from '../common/index.ts';

/** Parses a signal as runc does: a name with or without SIG (`TERM`, `SIGTERM`, `term`) or a number. */
export function parseSignal(text: string): NodeJS.Signals | number {
  if (/^\d+$/.test(text)) {
    const number = Number(text);
    if (number < 1 || number > 64) throw invalidArgument(`invalid signal number ${text}: use 1 to 64`);
    return number;
  }
  const upper = text.toUpperCase();
  const name = (upper.startsWith('SIG') ? upper : `SIG${upper}`) as NodeJS.Signals;
  if (!(name in constants.signals)) {
    throw invalidArgument(`unknown signal "${text}": use a name such as TERM or KILL, or a number`);
  }
  return name;
}
