/**
 * Which messages `mark` and `move` act on (ids from the command line, or `--query`), and how
 * what they did is reported.
 */
import { parseQuery } from '../core/query/index.js';
import { parseIds, selectByQuery, type ChangeReport, type Selection } from '../core/messages.js';
import { MailopsError } from '../domain/errors.js';
import type { IdCodec, MailProvider } from '../domain/provider.js';
import type { CliContext } from './context.js';
import { printJson } from './output.js';

/** `folder` is a folder id (resolved by core/folder-resolver.ts): where --query searches, where bare UIDs live. */
export async function selectMessages(
  provider: MailProvider,
  ids: IdCodec,
  selection: { ids: string[]; query: string | undefined; folder: string },
  signal: AbortSignal,
): Promise<Selection> {
  if (selection.query !== undefined && selection.ids.length > 0) {
    throw new MailopsError('USAGE', 'give message ids or --query, not both');
  }
  if (selection.query !== undefined) {
    return { refs: await selectByQuery(provider, selection.folder, parseQuery(selection.query), signal), unknown: [] };
  }
  if (selection.ids.length === 0) {
    throw new MailopsError('USAGE', 'no messages given', { hint: 'pass message ids (from mailops ls) or --query QUERY' });
  }
  return parseIds(ids, selection.ids, selection.folder);
}

/**
 * `{"action", "processed", "total", "missing", ...}` on stdout, or a note; ids that named no message
 * are a warning on stderr. Exit 1 when not every message was changed (the contract's partial failure).
 */
export function printChangeReport(ctx: CliContext, report: ChangeReport, fields: Record<string, unknown>, done: string): number {
  const { processed, total, missing } = report;
  if (missing.length) ctx.warn(`not found (moved or deleted since listed, or wrong): ${missing.join(', ')}`);
  if (ctx.isMachineOutput) printJson(ctx, { action: fields.action, processed, total, ...fields, missing });
  else ctx.note(`${done}: ${processed} of ${total} message${total === 1 ? '' : 's'}`);
  return processed < total ? 1 : 0;
}
