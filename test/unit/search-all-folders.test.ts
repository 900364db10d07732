// search --all-folders merges each folder's newest-first list; a message held by several folders
// (Gmail labels) is listed once.
import { describe, expect, it } from 'vitest';
import { searchAllFolders } from '../../src/core/messages.js';
import type { MailProvider } from '../../src/domain/provider.js';
import type { Envelope, Folder } from '../../src/domain/types.js';

const folder = (id: string): Folder => ({ id, path: id, name: id, delimiter: '/', role: null, unreadCount: 0, totalCount: 0, selectable: true });
const envelope = (id: string, folderId: string, day: number): Envelope => ({
  ref: { id, folder: folderId }, uid: null, messageId: null, subject: id, from: null, to: [], cc: [],
  date: null, received: new Date(Date.UTC(2026, 0, day)), size: 1, flags: { seen: true, flagged: false, answered: false, draft: false, keywords: [] }, hasAttachments: false,
});

function provider(lists: Record<string, Envelope[]>): MailProvider {
  return {
    kind: 'gmail',
    listFolders: async () => Object.keys(lists).map(folder),
    list: async (id: string) => ({ items: lists[id]!, total: lists[id]!.length, totalIsEstimate: false, page: 1, pageSize: 50, hasNext: false, nextCursor: null }),
  } as unknown as MailProvider;
}

describe('searchAllFolders', () => {
  it('lists a message in two folders once, newest first, and says the total is an estimate', async () => {
    const p = provider({ INBOX: [envelope('b', 'INBOX', 3), envelope('a', 'INBOX', 1)], Work: [envelope('b', 'Work', 3), envelope('c', 'Work', 2)] });
    const page = await searchAllFolders(p, null, { limit: 10, page: 1 }, new AbortController().signal);
    expect(page.items.map((e) => e.ref.id)).toEqual(['b', 'c', 'a']);
    expect(page).toMatchObject({ total: 3, totalIsEstimate: true, hasNext: false });
  });

  it('folders that share nothing keep an exact total', async () => {
    const p = provider({ INBOX: [envelope('a', 'INBOX', 1)], Work: [envelope('c', 'Work', 2)] });
    expect(await searchAllFolders(p, null, { limit: 10, page: 1 }, new AbortController().signal)).toMatchObject({ total: 2, totalIsEstimate: false });
  });
});
