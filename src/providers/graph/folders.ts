/**
 * Graph's folder tree as folders: every folder under the mailbox's root (`mailFolders`, then each
 * one's `childFolders`, page by page), with the path of display names joined by `/`. A `/` or `\`
 * inside a display name is written `\/` or `\\`, so a path always splits back into the names it
 * was made of (`Projects\/2026` is one folder, `Projects/2026` a folder in another). Hidden folders
 * and search folders are left out: they hold nothing of their own.
 *
 * Roles: Graph v1.0 has no `wellKnownName` on a folder, so each well-known name (`inbox`,
 * `sentitems`, ...) is asked for by name, all in one `$batch`, and the ids it answers get the roles.
 */
import type { MailFolder } from '@microsoft/microsoft-graph-types';
import type { Folder, FolderRole } from '../../domain/types.js';
import type { CallOptions, GraphApi } from './api.js';

/** Graph's well-known folder names, and the roles they give. */
export const WELL_KNOWN: ReadonlyArray<readonly [string, FolderRole]> = [
  ['inbox', 'inbox'],
  ['sentitems', 'sent'],
  ['drafts', 'drafts'],
  ['deleteditems', 'trash'],
  ['junkemail', 'junk'],
  ['archive', 'archive'],
];

const FOLDER_FIELDS = 'id,displayName,parentFolderId,childFolderCount,unreadItemCount,totalItemCount,isHidden';
/** Graph's largest page of folders. */
const FOLDER_PAGE = 250;

interface FolderPage {
  value?: MailFolder[];
  '@odata.nextLink'?: string;
}

/** A display name as one path segment. */
export function escapeSegment(name: string): string {
  return name.replace(/[\\/]/g, (c) => `\\${c}`);
}

/**
 * Every folder of the mailbox, parents before their children, with roles. `known`: the folder
 * list of the last run; the well-known folders' ids never change (they cannot be deleted), so
 * roles found there are not asked for again (a sync with no change saves six requests).
 */
export async function listGraphFolders(api: GraphApi, options: CallOptions, known: readonly Folder[] = []): Promise<Folder[]> {
  const [roles, top] = await Promise.all([knownRoles(known) ?? roleIds(api, options), listPages(api, '/me/mailFolders', options)]);
  const folders: Folder[] = [];
  let level = top.map((f) => ({ folder: f, parent: '' }));
  while (level.length > 0) {
    const next: typeof level = [];
    for (const { folder, parent } of level) {
      if (!folder.id || folder.isHidden || isSearchFolder(folder)) continue;
      const name = folder.displayName ?? folder.id;
      const path = parent ? `${parent}/${escapeSegment(name)}` : escapeSegment(name);
      folders.push({
        id: folder.id,
        path,
        name,
        delimiter: '/',
        role: roles.get(folder.id) ?? null,
        unreadCount: folder.unreadItemCount ?? null,
        totalCount: folder.totalItemCount ?? null,
        selectable: true,
      });
    }
    // The children of this level, their pages asked for side by side (the pacer keeps it to four).
    const parents = level.filter(({ folder }) => folder.id && !folder.isHidden && !isSearchFolder(folder) && (folder.childFolderCount ?? 0) > 0);
    const children = await Promise.all(
      parents.map(async ({ folder, parent }) => {
        const path = parent ? `${parent}/${escapeSegment(folder.displayName ?? folder.id!)}` : escapeSegment(folder.displayName ?? folder.id!);
        const kids = await listPages(api, `/me/mailFolders/${encodeURIComponent(folder.id!)}/childFolders`, options);
        return kids.map((f) => ({ folder: f, parent: path }));
      }),
    );
    for (const group of children) next.push(...group);
    level = next;
  }
  return folders;
}

/** The roles of a folder list that has every well-known role but archive (which a mailbox may lack); else null. */
function knownRoles(folders: readonly Folder[]): Map<string, FolderRole> | null {
  const roles = new Map<string, FolderRole>();
  for (const f of folders) if (f.role) roles.set(f.id, f.role);
  const have = new Set(roles.values());
  return WELL_KNOWN.every(([, role]) => role === 'archive' || have.has(role)) ? roles : null;
}

/** The ids of the well-known folders the mailbox has, by role: one `$batch`. */
export async function roleIds(api: GraphApi, options: CallOptions): Promise<Map<string, FolderRole>> {
  const answers = await api.batch<MailFolder>(
    WELL_KNOWN.map(([name]) => ({ method: 'GET' as const, path: `/me/mailFolders/${name}`, query: { $select: 'id' }, what: 'mailFolders.get' })),
    options,
  );
  const roles = new Map<string, FolderRole>();
  answers.forEach((answer, i) => {
    const id = answer.status === 200 ? (answer.body as MailFolder | null)?.id : undefined;
    // A mailbox without an archive folder answers 404 for it: that role is simply absent.
    if (id) roles.set(id, WELL_KNOWN[i]![1]);
    else if (answer.status !== 404) throw api.partError(answer, 'mailFolders.get', options);
  });
  return roles;
}

async function listPages(api: GraphApi, path: string, options: CallOptions): Promise<MailFolder[]> {
  const out: MailFolder[] = [];
  let next: string | undefined = path;
  let query: Record<string, string | number> | undefined = { $select: FOLDER_FIELDS, $top: FOLDER_PAGE };
  while (next) {
    const page: FolderPage = await api.json<FolderPage>({ method: 'GET', path: next, query, what: 'mailFolders.list' }, options);
    out.push(...(page.value ?? []));
    next = page['@odata.nextLink'];
    // A next link carries its own query.
    query = undefined;
  }
  return out;
}

function isSearchFolder(folder: MailFolder): boolean {
  return (folder as { '@odata.type'?: string })['@odata.type'] === '#microsoft.graph.mailSearchFolder';
}
