/** The folder list as last seen on the server, for `folders --offline` and name resolution. */
import type { Folder, FolderRole } from '../domain/types.js';
import type { Database } from './db.js';

interface FolderRow {
  path: string;
  id: string;
  name: string;
  delimiter: string | null;
  role: FolderRole | null;
  unread_count: number | null;
  total_count: number | null;
  selectable: number;
  listed_at: string;
}

export class FolderRepository {
  constructor(private readonly db: Database) {}

  /** Replaces the account's folder list in one transaction. */
  replace(account: string, folders: Folder[], listedAt: Date = new Date()): void {
    const at = listedAt.toISOString();
    const insert = this.db.prepare(
      `INSERT INTO folders (account, path, id, name, delimiter, role, unread_count, total_count, selectable, listed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM folders WHERE account = ?').run(account);
      for (const f of folders) {
        insert.run(account, f.path, f.id, f.name, f.delimiter, f.role, f.unreadCount, f.totalCount, f.selectable ? 1 : 0, at);
      }
    })();
  }

  list(account: string): { folders: Folder[]; listedAt: string | null } {
    const rows = this.db.prepare('SELECT * FROM folders WHERE account = ? ORDER BY path').all(account) as FolderRow[];
    return {
      folders: rows.map((r) => ({
        id: r.id,
        path: r.path,
        name: r.name,
        delimiter: r.delimiter,
        role: r.role,
        unreadCount: r.unread_count,
        totalCount: r.total_count,
        selectable: r.selectable === 1,
      })),
      listedAt: rows[0]?.listed_at ?? null,
    };
  }
}
