/**
 * Use cases on messages that span providers: selecting messages by id or by
 * query, searching every folder, moving with fallbacks, finding the trash.
 */
import { MailopsError } from '../domain/errors.js';
import type { ListOptions, MailProvider } from '../domain/provider.js';
import type { QueryNode } from '../domain/query.js';
import type { Envelope, Folder, FolderRole, MessageRef, Page, PageRequest } from '../domain/types.js';

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
  for (let page = 1; ; page++) {
    const result = await provider.list(folder, { query, page: { limit: SELECT_BATCH, page } }, signal);
    refs.push(...result.items.map((e) => e.ref));
    if (!result.hasNext) return refs;
  }
}

/** Ids as given on the command line (duplicates dropped, order kept). */
export function resolveIds(provider: MailProvider, ids: string[], folder: string): MessageRef[] {
  const seen = new Set<string>();
  const refs: MessageRef[] = [];
  for (const id of ids) {
    const ref = provider.resolveRef(id, folder);
    const key = `${ref.folder}\u0000${ref.uid ?? ref.id}`;
    if (!seen.has(key)) {
      seen.add(key);
      refs.push(ref);
    }
  }
  return refs;
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
): Promise<Page<Envelope>> {
  const folders = (await provider.listFolders(signal)).filter((f) => f.selectable);
  const window: ListOptions = { query, page: { limit: page.limit * page.page, page: 1 } };
  let total = 0;
  const all: Envelope[] = [];
  for (const folder of folders) {
    const result = await provider.list(folder.path, window, signal);
    total += result.total;
    all.push(...result.items);
  }
  all.sort((a, b) => (b.date?.getTime() ?? 0) - (a.date?.getTime() ?? 0));
  const start = (page.page - 1) * page.limit;
  return {
    items: all.slice(start, start + page.limit),
    total,
    page: page.page,
    pageSize: page.limit,
    hasNext: start + page.limit < total,
  };
}

export async function folderWithRole(provider: MailProvider, role: FolderRole, signal: AbortSignal): Promise<Folder> {
  const folders = await provider.listFolders(signal);
  const found = folders.find((f) => f.role === role);
  if (!found) {
    throw new MailopsError('FOLDER_NOT_FOUND', `this account has no ${role} folder`, {
      hint: role === 'trash' ? 'name the folder with --to, or delete for good with --expunge --yes' : undefined,
    });
  }
  return found;
}

/** Moves natively where the provider can; otherwise reports UNSUPPORTED (exit 6). */
export async function moveMessages(
  provider: MailProvider,
  refs: MessageRef[],
  to: string,
  signal: AbortSignal,
): Promise<number> {
  if (!provider.move) throw new MailopsError('UNSUPPORTED', `moving messages is not supported by ${provider.kind} accounts`);
  return provider.move(refs, to, signal);
}

export async function deleteForever(provider: MailProvider, refs: MessageRef[], signal: AbortSignal): Promise<number> {
  if (!provider.deleteForever) {
    throw new MailopsError('UNSUPPORTED', `deleting for good is not supported by ${provider.kind} accounts`);
  }
  return provider.deleteForever(refs, signal);
}
