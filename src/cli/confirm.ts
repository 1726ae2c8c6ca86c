/** docker's PromptForConfirmation, which the prune verbs ask before they remove anything. */
import type { Context } from './command.ts';

/** A warning followed by docker's question. */
export function continuePrompt(warning: string): string {
  return `${warning}\nAre you sure you want to continue? [y/N] `;
}

/** Prints the prompt and reads the answer: only y or yes (any case) goes ahead. */
export async function confirm(ctx: Context, prompt: string): Promise<boolean> {
  ctx.out(prompt);
  const answer = (await ctx.readLine()).trim().toLowerCase();
  return answer === 'y' || answer === 'yes';
}
