/**
 * The one place where what a user types for a folder becomes the backend's folder id: a full
 * path as `folders` prints it, or `@ROLE` (@inbox, @sent, @drafts, @trash, @junk, @archive,
 * @all, @flagged) on any provider. Used by every command that takes a folder, live and offline.
 *
 * Lookups go to the folder list cached in the folders table first; a miss lists the server
 * once (live commands only) and caches the answer. On a backend whose folder ids are the paths
 * (IMAP) a path needs no lookup at all, so `ls Archive` costs no LIST; only roles do.
 */
import { MailopsError } from '../domain/errors.js';
import type { BackendCapabilities } from '../domain/provider.js';
import type { Folder, FolderRole } from '../domain/types.js';

export const FOLDER_ROLES: readonly FolderRole[] = ['inbox', 'sent', 'drafts', 'trash', 'junk', 'archive', 'all', 'flagged'];

/** A folder as commands use it: the id the backend takes, and the path people read. */
export interface ResolvedFolder {
  id: string;
  path: string;
  role: FolderRole | null;
}

export interface FolderSource {
  /** The account's folders as last listed (empty when never listed). */
  cached(): Folder[];
  /** Lists the server and caches the answer; null offline. */
  live: (() => Promise<Folder[]>) | null;
}

/** `@trash` → 'trash'; null for anything that is not a role name (a folder may start with @). */
export function roleOf(input: string): FolderRole | null {
  if (!input.startsWith('@')) return null;
  const name = input.slice(1).toLowerCase();
  return (FOLDER_ROLES as readonly string[]).includes(name) ? (name as FolderRole) : null;
}

function isInbox(path: string): boolean {
  return path.toUpperCase() === 'INBOX';
}

export class FolderResolver {
  private listedLive: Folder[] | null = null;

  constructor(
    private readonly capabilities: Pick<BackendCapabilities, 'folderIdIsPath'>,
    private readonly source: FolderSource,
  ) {}

  async resolve(input: string): Promise<ResolvedFolder> {
    const role = roleOf(input);
    if (role !== null) return this.byRole(role);
    // INBOX is case-insensitive on IMAP (RFC 3501 5.1), and every provider has one.
    if (isInbox(input)) {
      if (this.capabilities.folderIdIsPath) return { id: 'INBOX', path: 'INBOX', role: 'inbox' };
      return this.byRole('inbox');
    }
    if (this.capabilities.folderIdIsPath) {
      const known = this.source.cached().find((f) => f.path === input);
      return { id: input, path: input, role: known?.role ?? null };
    }
    const found = await this.find((folders) => folders.find((f) => f.path === input));
    if (!found) {
      throw new MailopsError('FOLDER_NOT_FOUND', `no folder "${input}"`, { hint: 'list them with mailops folders' });
    }
    return toResolved(found);
  }

  /** Several at once (sync --folders), each resolved as resolve() does. */
  async resolveAll(inputs: readonly string[]): Promise<ResolvedFolder[]> {
    const out: ResolvedFolder[] = [];
    for (const input of inputs) out.push(await this.resolve(input));
    return out;
  }

  private async byRole(role: FolderRole): Promise<ResolvedFolder> {
    const found = await this.find((folders) => folders.find((f) => f.role === role && f.selectable));
    if (found) return toResolved(found);
    // Every server has an INBOX, listed with the role or not.
    if (role === 'inbox' && this.capabilities.folderIdIsPath) return { id: 'INBOX', path: 'INBOX', role };
    const folders = this.listedLive ?? this.source.cached();
    const roles = [...new Set(folders.map((f) => f.role).filter((r): r is FolderRole => r !== null))];
    throw new MailopsError('FOLDER_NOT_FOUND', `this account has no @${role} folder`, {
      hint: roles.length
        ? `its roles: ${FOLDER_ROLES.filter((r) => roles.includes(r)).map((r) => `@${r}`).join(', ')}${this.source.live ? '' : ' (as of the last sync)'}`
        : this.source.live
          ? 'its server marks no folder with a role; name the folder by its path (mailops folders)'
          : 'the cache holds no folder list yet: run mailops folders or mailops sync',
    });
  }

  /** The cached list first; on a miss, the server's list once (cached for the next command). */
  private async find(pick: (folders: Folder[]) => Folder | undefined): Promise<Folder | undefined> {
    const cached = pick(this.source.cached());
    if (cached || !this.source.live) return cached;
    this.listedLive ??= await this.source.live();
    return pick(this.listedLive);
  }
}

function toResolved(folder: Folder): ResolvedFolder {
  return { id: folder.id, path: folder.path, role: folder.role };
}
