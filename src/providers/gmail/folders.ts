/**
 * Gmail labels as folders. System labels are shown with Gmail's own names and carry the roles
 * `@inbox`, `@sent`, ... name; user labels by their names, nested on `/`; and All Mail, which is
 * no label at all (messages.list without labelIds: everything but Spam and Trash), as a folder
 * of its own with the role `all`. UNREAD, STARRED's twin IMPORTANT stays, CATEGORY_* and CHAT
 * are not folders (they are views, not places), and neither are UNREAD or DRAFT's shadow.
 */
import type { gmail_v1 } from '@googleapis/gmail';
import type { Folder, FolderRole } from '../../domain/types.js';

/** All Mail's folder id. Gmail has no such label (system label ids are upper-case words like it). */
export const ALL_MAIL = 'ALL_MAIL';

const SYSTEM: Record<string, { name: string; role: FolderRole | null }> = {
  INBOX: { name: 'INBOX', role: 'inbox' },
  SENT: { name: 'Sent', role: 'sent' },
  DRAFT: { name: 'Drafts', role: 'drafts' },
  TRASH: { name: 'Trash', role: 'trash' },
  SPAM: { name: 'Spam', role: 'junk' },
  STARRED: { name: 'Starred', role: 'flagged' },
  IMPORTANT: { name: 'Important', role: null },
};

/** Whether a label is a folder: a user label, or one of the system labels above. */
export function isFolderLabel(label: Pick<gmail_v1.Schema$Label, 'id' | 'type'>): boolean {
  if (!label.id) return false;
  return label.type === 'user' || Object.hasOwn(SYSTEM, label.id);
}

/** Folders, in Gmail's order: system labels first, then user labels by name, then All Mail. */
export function toFolders(labels: gmail_v1.Schema$Label[], counts: Map<string, { total: number | null; unread: number | null }>, allMail: { total: number | null }): Folder[] {
  const system: Folder[] = [];
  const user: Folder[] = [];
  for (const label of labels) {
    if (!isFolderLabel(label)) continue;
    const id = label.id!;
    const count = counts.get(id) ?? { total: label.messagesTotal ?? null, unread: label.messagesUnread ?? null };
    const known = SYSTEM[id];
    const path = known ? known.name : (label.name ?? id);
    const folder: Folder = {
      id,
      path,
      name: known ? known.name : (path.split('/').pop() ?? path),
      delimiter: '/',
      role: known ? known.role : null,
      unreadCount: count.unread,
      totalCount: count.total,
      selectable: true,
    };
    (known ? system : user).push(folder);
  }
  const order = Object.keys(SYSTEM);
  system.sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
  user.sort((a, b) => a.path.localeCompare(b.path));
  const all: Folder = { id: ALL_MAIL, path: 'All Mail', name: 'All Mail', delimiter: '/', role: 'all', unreadCount: null, totalCount: allMail.total, selectable: true };
  return [...system, ...user, all];
}

/**
 * The folders a message with these labels is listed in, as messages.list lists them: in Trash or
 * Spam, only there (Gmail leaves such messages out of every other label's list); otherwise its
 * folder labels, and All Mail.
 */
export function membershipsOf(labelIds: readonly string[] | null | undefined, folderIds: ReadonlySet<string>): string[] {
  const labels = labelIds ?? [];
  const bin = ['TRASH', 'SPAM'].filter((id) => labels.includes(id));
  if (bin.length > 0) return bin.filter((id) => folderIds.has(id));
  const folders = labels.filter((id) => folderIds.has(id));
  folders.push(ALL_MAIL);
  return folders;
}
