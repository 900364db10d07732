/** Which messages a command acts on: ids from the command line, or `--query` (one or the other). */
import { parseQuery } from '../core/query/index.js';
import { resolveIds, selectByQuery } from '../core/messages.js';
import { MailopsError } from '../domain/errors.js';
import type { IdCodec, MailProvider } from '../domain/provider.js';
import type { MessageRef } from '../domain/types.js';

/** `folder` is a folder id (resolved by core/folder-resolver.ts): where --query searches, where bare UIDs live. */
export async function selectMessages(
  provider: MailProvider,
  ids: IdCodec,
  selection: { ids: string[]; query: string | undefined; folder: string },
  signal: AbortSignal,
): Promise<MessageRef[]> {
  if (selection.query !== undefined && selection.ids.length > 0) {
    throw new MailopsError('USAGE', 'give message ids or --query, not both');
  }
  if (selection.query !== undefined) {
    return selectByQuery(provider, selection.folder, parseQuery(selection.query), signal);
  }
  if (selection.ids.length === 0) {
    throw new MailopsError('USAGE', 'no messages given', { hint: 'pass message ids (from mailops ls) or --query QUERY' });
  }
  return resolveIds(ids, selection.ids, selection.folder);
}
