/**
 * Prompts, only where a person can answer (see CliContext.canPrompt). Without
 * one, a missing value is a usage error that names the flag to pass.
 * @inquirer/prompts is imported only when a prompt is really shown.
 */
import { MailopsError } from '../domain/errors.js';
import type { CliContext } from './context.js';

function requirePerson(ctx: CliContext, what: string, flag: string): void {
  if (!ctx.canPrompt) {
    throw new MailopsError('MISSING_INPUT', `${what} is required`, { hint: `pass ${flag}` });
  }
}

function promptContext(ctx: CliContext) {
  return { input: ctx.io.stdin, output: ctx.io.stderr, signal: ctx.signal };
}

export async function askText(
  ctx: CliContext,
  message: string,
  flag: string,
  options: { default?: string; validate?: (value: string) => true | string } = {},
): Promise<string> {
  requirePerson(ctx, message.replace(/:$/, ''), flag);
  const { input } = await import('@inquirer/prompts');
  return input({ message, ...(options.default !== undefined ? { default: options.default } : {}), ...(options.validate ? { validate: options.validate } : {}) }, promptContext(ctx));
}

export async function askPassword(ctx: CliContext, message: string, flag: string): Promise<string> {
  requirePerson(ctx, 'the password', flag);
  const { password } = await import('@inquirer/prompts');
  return password({ message, mask: '*', validate: (v) => (v.length > 0 ? true : 'the password cannot be empty') }, promptContext(ctx));
}

export async function askChoice<T extends string>(ctx: CliContext, message: string, flag: string, choices: readonly T[], fallback: T): Promise<T> {
  requirePerson(ctx, message.replace(/:$/, ''), flag);
  const { select } = await import('@inquirer/prompts');
  return select<T>({ message, choices: choices.map((value) => ({ value, name: value })), default: fallback }, promptContext(ctx));
}

export async function confirm(ctx: CliContext, message: string, flag: string): Promise<boolean> {
  requirePerson(ctx, 'confirmation', flag);
  const { confirm: ask } = await import('@inquirer/prompts');
  return ask({ message, default: false }, promptContext(ctx));
}
