/**
 * One sync per account at a time: a lease row in SQLite with the holder's
 * pid, host and expiry. A lease whose holder died (kill -9, reboot) is taken
 * over at once on the same host (its pid is gone) and after expiry elsewhere.
 * The holder renews it while it works.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Database } from './db.js';
import { processExists } from '../domain/process.js';

const TTL_MS = 120_000;

export interface Lease {
  /** Renews the lease; false when it was lost (taken over after expiry). */
  renew(): boolean;
  release(): void;
}

export interface LockHolder {
  pid: number;
  host: string;
  acquiredAt: string;
}

interface LockRow {
  pid: number;
  host: string;
  token: string;
  acquired_at: string;
  expires_at: string;
}

export class SyncLocks {
  constructor(private readonly db: Database) {}

  /** Takes the lease, or returns who holds it. */
  acquire(account: string, now: Date = new Date()): { lease: Lease } | { holder: LockHolder } {
    const token = randomUUID();
    const host = hostname();
    const result = this.db.transaction((): LockHolder | null => {
      const row = this.db.prepare('SELECT * FROM sync_locks WHERE account = ?').get(account) as LockRow | undefined;
      if (row) {
        const expired = new Date(row.expires_at).getTime() <= now.getTime();
        const dead = row.host === host && !processExists(row.pid);
        if (!expired && !dead) return { pid: row.pid, host: row.host, acquiredAt: row.acquired_at };
      }
      this.db
        .prepare(
          `INSERT INTO sync_locks (account, pid, host, token, acquired_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT(account) DO UPDATE SET pid = excluded.pid, host = excluded.host, token = excluded.token,
             acquired_at = excluded.acquired_at, expires_at = excluded.expires_at`,
        )
        .run(account, process.pid, host, token, now.toISOString(), new Date(now.getTime() + TTL_MS).toISOString());
      return null;
    }).immediate();
    if (result) return { holder: result };

    // Called after every sync event: a write (and a commit) at most every few seconds is plenty
    // for a two-minute lease.
    let renewedAt = Date.now();
    let held = true;
    const renew = () => {
      if (Date.now() - renewedAt < TTL_MS / 24) return held;
      renewedAt = Date.now();
      held = this.db
        .prepare('UPDATE sync_locks SET expires_at = ? WHERE account = ? AND token = ?')
        .run(new Date(renewedAt + TTL_MS).toISOString(), account, token).changes === 1;
      return held;
    };
    const timer = setInterval(renew, TTL_MS / 4);
    timer.unref();
    return {
      lease: {
        renew,
        release: () => {
          clearInterval(timer);
          this.db.prepare('DELETE FROM sync_locks WHERE account = ? AND token = ?').run(account, token);
        },
      },
    };
  }
}
