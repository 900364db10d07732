/**
 * LIST results to domain folders. Roles come from the server's SPECIAL-USE
 * flags (RFC 6154); servers without them get the role from well-known names,
 * but only for roles no flagged folder claims and only near the top of the
 * tree, so "Projects/Archive" is never taken for the archive.
 */
import type { ListResponse } from 'imapflow';
import type { Folder, FolderRole } from '../../domain/types.js';

const FLAG_ROLES: Record<string, FolderRole> = {
  '\\inbox': 'inbox',
  '\\sent': 'sent',
  '\\drafts': 'drafts',
  '\\trash': 'trash',
  '\\junk': 'junk',
  '\\archive': 'archive',
  '\\all': 'all',
  '\\flagged': 'flagged',
};

const NAME_ROLES: Record<string, FolderRole> = {
  sent: 'sent',
  'sent items': 'sent',
  'sent messages': 'sent',
  'sent mail': 'sent',
  drafts: 'drafts',
  draft: 'drafts',
  trash: 'trash',
  'deleted items': 'trash',
  'deleted messages': 'trash',
  bin: 'trash',
  junk: 'junk',
  'junk e-mail': 'junk',
  'junk email': 'junk',
  spam: 'junk',
  'bulk mail': 'junk',
  archive: 'archive',
  archives: 'archive',
  'all mail': 'all',
  flagged: 'flagged',
  starred: 'flagged',
};

/** What roles are read from: imapflow's LIST entries and the sync client's (wire/) alike. */
export type ListedFolder = Pick<ListResponse, 'path' | 'name' | 'parentPath' | 'delimiter' | 'flags'> & {
  status?: { messages?: number | undefined; unseen?: number | undefined } | undefined;
};

/** Parents under which name-based roles are believed: the root, INBOX (Courier-style "INBOX.Sent") and Gmail's system folder. */
const ROLE_PARENTS = new Set(['', 'inbox', '[gmail]', '[google mail]']);

function roleFromFlags(flags: Set<string>): FolderRole | null {
  for (const flag of flags) {
    const role = FLAG_ROLES[flag.toLowerCase()];
    if (role) return role;
  }
  return null;
}

function roleFromName(entry: ListedFolder): FolderRole | null {
  if (!ROLE_PARENTS.has(entry.parentPath.toLowerCase())) return null;
  return NAME_ROLES[entry.name.toLowerCase()] ?? null;
}

function isSelectable(entry: ListedFolder): boolean {
  return !entry.flags.has('\\Noselect') && !entry.flags.has('\\NonExistent');
}

export function toFolders(entries: ListedFolder[]): Folder[] {
  const flagged = entries.map((entry) => (entry.path.toUpperCase() === 'INBOX' ? 'inbox' : roleFromFlags(entry.flags)));
  const claimed = new Set(flagged.filter((role) => role !== null));

  return entries.map((entry, index) => {
    const selectable = isSelectable(entry);
    let role = flagged[index] ?? null;
    if (role === null && selectable) {
      const guessed = roleFromName(entry);
      // First folder by name wins a role; later ones with the same name-role stay plain.
      if (guessed && !claimed.has(guessed)) {
        role = guessed;
        claimed.add(guessed);
      }
    }
    return {
      id: entry.path,
      path: entry.path,
      name: entry.name,
      delimiter: entry.delimiter || null,
      role,
      unreadCount: selectable ? (entry.status?.unseen ?? null) : null,
      totalCount: selectable ? (entry.status?.messages ?? null) : null,
      selectable,
    };
  });
}
