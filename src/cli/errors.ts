/**
 * Turning any failure into what the contract promises: a message (and a hint)
 * on stderr, or {"error": {...}} with --json, and the exit code of its class.
 */
import { ExitCode, MailopsError, type ExitCodeValue } from '../domain/errors.js';
import type { CliContext } from './context.js';
import { storageError } from '../store/storage-error.js';

export function toMailopsError(error: unknown): MailopsError {
  if (error instanceof MailopsError) return error;
  if (error instanceof Error && error.name === 'AbortError') {
    return new MailopsError('INTERRUPTED', 'interrupted');
  }
  if (error instanceof Error && error.name === 'ExitPromptError') {
    return new MailopsError('INTERRUPTED', 'interrupted at the prompt');
  }
  const storage = storageError(error, process.env.MAILOPS_HOME);
  if (storage) return storage;
  const message = error instanceof Error ? error.message : String(error);
  return new MailopsError('FAILED', message, { cause: error });
}

export function reportError(ctx: Pick<CliContext, 'io' | 'redactor' | 'flags' | 'colorFor'>, error: unknown): ExitCodeValue {
  const err = toMailopsError(error);
  const message = ctx.redactor.redact(err.message);
  const hint = err.hint === undefined ? undefined : ctx.redactor.redact(err.hint);
  if (ctx.flags.json || ctx.flags.ndjson) {
    // Always the same three keys, so scripts can rely on the shape: a missing hint is null.
    ctx.io.stderr.write(JSON.stringify({ error: { code: err.code, message, hint: hint ?? null } }) + '\n');
  } else {
    const colour = ctx.colorFor('stderr');
    const label = colour ? '\u001b[31merror:\u001b[39m' : 'error:';
    ctx.io.stderr.write(`mailops: ${label} ${message}\n`);
    if (hint !== undefined) ctx.io.stderr.write(`hint: ${hint}\n`);
    if (process.env.MAILOPS_DEBUG && err.cause instanceof Error && err.cause.stack) {
      ctx.io.stderr.write(ctx.redactor.redact(err.cause.stack) + '\n');
    }
  }
  return err.exitCode;
}

export { ExitCode };
