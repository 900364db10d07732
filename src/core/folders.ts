/** Folder order as people expect it: INBOX first, then by path (the same live and from the cache). */
import type { Folder } from '../domain/types.js';

export function sortFolders(folders: Folder[]): Folder[] {
  return [...folders].sort((a, b) => {
    const inboxA = a.role === 'inbox' ? 0 : 1;
    const inboxB = b.role === 'inbox' ? 0 : 1;
    return inboxA - inboxB || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  });
}
