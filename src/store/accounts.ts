/**
 * Accounts as stored: their configuration (never a secret) and the state
 * `status` reports.
 */
import type { AccountConfig, AccountState } from '../domain/types.js';
import { dirname } from 'node:path';
import { writeAccountsBackup } from './account-backup.js';
import type { Database } from './db.js';

export interface StoredAccount {
  config: AccountConfig;
  state: AccountState;
  lastCheckedAt: string | null;
}

interface AccountRow {
  name: string;
  config: string;
  priority: number;
  is_default: number;
  created_at: string;
  state: AccountState['state'];
  last_error: string | null;
  last_checked_at: string | null;
  last_sync_at: string | null;
  token_expires_at: string | null;
}

function fromRow(row: AccountRow): StoredAccount {
  const config = JSON.parse(row.config) as Omit<AccountConfig, 'backend'> & { backend?: AccountConfig['backend'] };
  return {
    // Accounts saved before backends existed all speak IMAP.
    config: { ...config, backend: config.backend ?? 'imap', name: row.name, priority: row.priority, isDefault: row.is_default === 1, createdAt: row.created_at },
    state: {
      state: row.state,
      lastError: row.last_error,
      lastSyncAt: row.last_sync_at,
      tokenExpiresAt: row.token_expires_at,
    },
    lastCheckedAt: row.last_checked_at,
  };
}

export class AccountRepository {
  constructor(private readonly db: Database) {}

  /** In sync order: priority, then the order they were connected. */
  list(): StoredAccount[] {
    const rows = this.db
      .prepare('SELECT * FROM accounts ORDER BY priority, created_at, name')
      .all() as AccountRow[];
    return rows.map(fromRow);
  }

  get(name: string): StoredAccount | null {
    const row = this.db.prepare('SELECT * FROM accounts WHERE name = ?').get(name) as AccountRow | undefined;
    return row ? fromRow(row) : null;
  }

  /** The account set with `connect --default`, else the first connected. */
  getDefault(): StoredAccount | null {
    const row = this.db
      .prepare('SELECT * FROM accounts ORDER BY is_default DESC, created_at, name LIMIT 1')
      .get() as AccountRow | undefined;
    return row ? fromRow(row) : null;
  }

  /** Inserts or replaces (a repair keeps created_at); `makeDefault` clears the flag elsewhere. */
  save(config: AccountConfig, makeDefault: boolean): void {
    const now = new Date().toISOString();
    const { name, provider, email, priority } = config;
    const json = JSON.stringify({ ...config, isDefault: undefined });
    this.db.transaction(() => {
      if (makeDefault) this.db.prepare('UPDATE accounts SET is_default = 0 WHERE name <> ?').run(name);
      this.db
        .prepare(
          `INSERT INTO accounts (name, provider, email, config, priority, is_default, created_at, updated_at, state, last_error)
           VALUES (@name, @provider, @email, @json, @priority, @isDefault, @now, @now, 'active', NULL)
           ON CONFLICT(name) DO UPDATE SET
             provider = excluded.provider, email = excluded.email, config = excluded.config,
             priority = excluded.priority, updated_at = excluded.updated_at,
             is_default = CASE WHEN @makeDefault THEN 1 ELSE accounts.is_default END,
             state = 'active', last_error = NULL`,
        )
        .run({ name, provider, email, json, priority, isDefault: makeDefault ? 1 : 0, now, makeDefault: makeDefault ? 1 : 0 });
      this.writeBackup();
    })();
  }

  /** Removes the account and, by cascade, everything cached for it. */
  delete(name: string): boolean {
    return this.db.transaction(() => {
      const deleted = this.db.prepare('DELETE FROM accounts WHERE name = ?').run(name).changes > 0;
      if (deleted) this.writeBackup();
      return deleted;
    })();
  }

  /**
   * accounts.json beside the database (account-backup.ts), written inside the change's
   * transaction: a copy that cannot be written rolls the change back, so the two agree.
   */
  private writeBackup(): void {
    const file = this.db.name;
    if (!file || file === ':memory:') return;
    writeAccountsBackup(dirname(file), this.list().map((account) => account.config));
  }

  recordCheck(name: string, state: AccountState['state'], lastError: string | null): void {
    this.db
      .prepare('UPDATE accounts SET state = ?, last_error = ?, last_checked_at = ? WHERE name = ?')
      .run(state, lastError, new Date().toISOString(), name);
  }

  /** OAuth accounts: when the access token in use expires (status shows it as token_expires_at). */
  recordTokenExpiry(name: string, expiresAt: Date | null): void {
    this.db.prepare('UPDATE accounts SET token_expires_at = ? WHERE name = ?').run(expiresAt ? expiresAt.toISOString() : null, name);
  }

  /** After a sync: when it last succeeded, and its error (cleared by a success). */
  recordSync(name: string, error: string | null, at: Date = new Date()): void {
    if (error === null) {
      this.db.prepare("UPDATE accounts SET last_sync_at = ?, last_error = NULL, state = CASE WHEN state = 'error' THEN 'active' ELSE state END WHERE name = ?").run(at.toISOString(), name);
    } else {
      this.db.prepare('UPDATE accounts SET last_error = ? WHERE name = ?').run(error, name);
    }
  }
}
