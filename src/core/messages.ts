/**
 * Use cases on messages that span providers: selecting messages by id or by
 * query, searching every folder, moving with fallbacks, finding the trash.
 */
import { MailopsError } from '../domain/errors.js';
import type { BackendCapabilities, ChangeOutcome, IdCodec, ListOptions, MailProvider } from '../domain/provider.js';
import type { QueryNode } from '../domain/query.js';
import type { Envelope, Folder, MessageRef, Page, PageRequest } from '../domain/types.js';

/** Page size used when a query selects messages to act on (mark/move --query). */
const SELECT_BATCH = 500;

/** Every message a query matches in a folder, newest first. */
export async function selectByQuery(
  provider: MailProvider,
  folder: string,
  query: QueryNode,
  signal: AbortSignal,
): Promise<MessageRef[]> {
  const refs: MessageRef[] = [];
  let cursor: string | null = null;
  for (let page = 1; ; page++) {
    const result: Page<Envelope> = await provider.list(folder, { query, page: { limit: SELECT_BATCH, page, cursor } }, signal);
    refs.push(...result.items.map((e) => e.ref));
    if (!result.hasNext) return refs;
    cursor = result.nextCursor;
  }
}

/** Messages a command acts on: the refs the backend's codec read, and the ids it could not. */
export interface Selection {
  refs: MessageRef[];
  unknown: string[];
}

/** Ids as given on the command line, read by the account's backend (duplicates dropped, order kept). */
export function parseIds(ids: IdCodec, input: string[], folder: string): Selection {
  const seen = new Set<string>();
  const selection: Selection = { refs: [], unknown: [] };
  for (const id of input) {
    const ref = ids.parse(id, folder);
    if (!ref) {
      if (!selection.unknown.includes(id)) selection.unknown.push(id);
      continue;
    }
    const key = `${ref.folder}\u0000${ref.id}`;
    if (!seen.has(key)) {
      seen.add(key);
      selection.refs.push(ref);
    }
  }
  return selection;
}

/** As parseIds, for commands that need every id to be one (read): any other is MESSAGE_NOT_FOUND. */
export function resolveIds(ids: IdCodec, input: string[], folder: string): MessageRef[] {
  const { refs, unknown } = parseIds(ids, input, folder);
  if (unknown.length) throw messageNotFound(unknown[0]!);
  return refs;
}

export interface ChangeReport {
  processed: number;
  total: number;
  /** Ids given that named no message: gone since listed, renumbered, or never there. */
  missing: string[];
}

/**
 * Runs a change (mark, move, delete) on the selection. None of the given messages found is
 * MESSAGE_NOT_FOUND (exit 5), as `read` says of one; some found is a partial success the caller
 * reports with the missing ids (exit 1). An empty --query selection is no error.
 */
export async function changeMessages(selection: Selection, change: (refs: MessageRef[]) => Promise<ChangeOutcome>): Promise<ChangeReport> {
  const total = selection.refs.length + selection.unknown.length;
  const outcome = selection.refs.length ? await change(selection.refs) : { processed: 0, missing: [] };
  const missing = [...selection.unknown, ...outcome.missing.map((ref) => ref.id)];
  if (total > 0 && missing.length === total) {
    throw new MailopsError(
      'MESSAGE_NOT_FOUND',
      missing.length === 1 ? `no message with id ${missing[0]}` : `no messages with ids ${missing.join(', ')}`,
      { hint: 'they were moved or deleted since they were listed, or the ids are wrong; get current ids with mailops ls or search' },
    );
  }
  return { processed: outcome.processed, total, missing };
}

export function messageNotFound(id: string): MailopsError {
  return new MailopsError('MESSAGE_NOT_FOUND', `no message with id ${id}`, { hint: 'ids come from mailops ls or search' });
}

/**
 * One page of a folder, newest first. `--page N` is a number for users; a backend that pages by
 * token (no random access) is walked from the first page, following each page's cursor.
 */
export async function listPage(
  provider: MailProvider,
  capabilities: Pick<BackendCapabilities, 'randomAccessPaging'>,
  folder: string,
  options: ListOptions,
  signal: AbortSignal,
): Promise<Page<Envelope>> {
  const { limit, page } = options.page;
  if (capabilities.randomAccessPaging || page === 1) return provider.list(folder, options, signal);
  let cursor: string | null = null;
  let result: Page<Envelope> | null = null;
  for (let p = 1; p <= page; p++) {
    result = await provider.list(folder, { query: options.query, page: { limit, page: p, cursor } }, signal);
    if (p < page && !result.hasNext) {
      // Past the last page: empty, as a random-access backend answers.
      return { ...result, items: [], page, hasNext: false, nextCursor: null };
    }
    cursor = result.nextCursor;
  }
  return result!;
}

/**
 * Searches every selectable folder and merges the results newest first.
 * Each folder contributes at most page*limit messages, which is enough to
 * fill the requested page of the merged list.
 */
export async function searchAllFolders(
  provider: MailProvider,
  query: QueryNode | null,
  page: PageRequest,
  signal: AbortSignal,
  onFolders?: (folders: Folder[]) => void,
): Promise<Page<Envelope>> {
  const listed = await provider.listFolders(signal);
  onFolders?.(listed);
  const folders = listed.filter((f) => f.selectable);
  const window: ListOptions = { query, page: { limit: page.limit * page.page, page: 1 } };
  let total = 0;
  let totalIsEstimate = false;
  const all: Envelope[] = [];
  for (const folder of folders) {
    // Page 1 with a window as large as the pages asked for: no cursor to follow.
    const result = await provider.list(folder.id, window, signal);
    total += result.total;
    totalIsEstimate ||= result.totalIsEstimate;
    all.push(...result.items);
  }
  // Newest first by arrival, as each folder is listed; ties keep the folders' own order.
  all.sort((a, b) => arrival(b) - arrival(a));
  // A message in several folders (Gmail labels) is listed once, under its first folder by id, a
  // folder with the role "all" (All Mail) last, as the cache lists it; the sum of the folders'
  // totals then counts it more than once, so it is an estimate.
  const isAll = new Set(folders.filter((f) => f.role === 'all').map((f) => f.id));
  const rank = (e: Envelope) => `${isAll.has(e.ref.folder) ? 1 : 0}${e.ref.folder}`;
  const best = new Map<string, Envelope>();
  for (const e of all) {
    const kept = best.get(e.ref.id);
    if (!kept || rank(e) < rank(kept)) best.set(e.ref.id, e);
  }
  const unique = all.filter((e) => best.get(e.ref.id) === e);
  if (unique.length < all.length) {
    total -= all.length - unique.length;
    totalIsEstimate = true;
  }
  const start = (page.page - 1) * page.limit;
  const hasNext = start + page.limit < total;
  return {
    items: unique.slice(start, start + page.limit),
    total,
    totalIsEstimate,
    page: page.page,
    pageSize: page.limit,
    hasNext,
    nextCursor: hasNext ? String(page.page + 1) : null,
  };
}

/** Moves natively where the provider can; otherwise reports UNSUPPORTED (exit 6). */
export async function moveMessages(
  provider: MailProvider,
  refs: MessageRef[],
  to: string,
  signal: AbortSignal,
): Promise<ChangeOutcome> {
  if (!provider.move) throw new MailopsError('UNSUPPORTED', `moving messages is not supported by ${provider.kind} accounts`);
  return provider.move(refs, to, signal);
}

export async function deleteForever(provider: MailProvider, refs: MessageRef[], signal: AbortSignal): Promise<ChangeOutcome> {
  if (!provider.deleteForever) {
    throw new MailopsError('UNSUPPORTED', `deleting for good is not supported by ${provider.kind} accounts`);
  }
  return provider.deleteForever(refs, signal);
}

/** The arrival time "newest first" orders by; the Date header where a backend has none. */
function arrival(envelope: Envelope): number {
  return (envelope.received ?? envelope.date)?.getTime() ?? 0;
}
