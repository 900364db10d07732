/** The message list shared by `ls` and `search`: JSON, NDJSON, table or TSV. */
import type { Envelope, Page } from '../domain/types.js';
import type { Session } from '../core/session.js';
import type { CliContext } from './context.js';
import { envelopeJson, flagMarkers, formatAddress, isoDate, printJson, printNdjson, printRows, shortDate } from './output.js';

/**
 * `folderPaths`: folder ids to the paths users type, for backends whose ids are something else
 * (Gmail label ids): the cached folder list (FolderRepository). Absent: ids are paths (IMAP).
 */
export async function printMessagePage(
  ctx: CliContext,
  page: Page<Envelope>,
  head: Record<string, unknown>,
  options: { showFolder?: boolean; folderPaths?: ReadonlyMap<string, string> } = {},
): Promise<void> {
  const pathOf = (e: Envelope) => options.folderPaths?.get(e.ref.folder) ?? e.ref.folder;
  const json = (e: Envelope) => envelopeJson(e, pathOf(e));
  if (ctx.output === 'json') {
    printJson(ctx, {
      ...head,
      messages: page.items.map(json),
      total: page.total,
      // Gmail and Graph count some lists only roughly: then `total` is their estimate.
      total_is_estimate: page.totalIsEstimate,
      page: page.page,
      page_size: page.pageSize,
      has_next: page.hasNext,
    });
    return;
  }
  if (ctx.output === 'ndjson') {
    for (const e of page.items) printNdjson(ctx, json(e));
    return;
  }
  const table = ctx.output === 'table';
  const columns = [
    { header: 'ID', keep: true },
    { header: 'DATE', keep: true },
    ...(options.showFolder ? [{ header: 'FOLDER', maxWidth: 24 }] : []),
    { header: 'FROM', maxWidth: 28 },
    { header: 'SUBJECT' },
    { header: 'FLAGS' },
  ];
  const rows = page.items.map((e) => [
    e.ref.id,
    table ? shortDate(e.date) : (isoDate(e.date) ?? ''),
    ...(options.showFolder ? [pathOf(e)] : []),
    formatAddress(e.from),
    e.subject,
    flagMarkers(e),
  ]);
  await printRows(ctx, columns, rows);
  if (table) {
    const first = page.items.length ? (page.page - 1) * page.pageSize + 1 : 0;
    const last = (page.page - 1) * page.pageSize + page.items.length;
    ctx.note(`${first}-${last} of ${page.totalIsEstimate ? 'about ' : ''}${page.total}${page.hasNext ? ` (next: --page ${page.page + 1})` : ''}`);
  }
}

/** The account's folder ids to their paths, from the cached folder list (what `folders` and sync keep). */
export function cachedFolderPaths(session: Session, account: string): Map<string, string> {
  return new Map(session.folders.list(account).folders.map((f) => [f.id, f.path]));
}
