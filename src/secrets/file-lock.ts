/**
 * An exclusive lock between processes, as a lock file next to the data it guards. Used for the
 * encrypted secret file's read-modify-write: two processes saving rotated tokens at once must not
 * lose either update.
 *
 * The lock file holds {pid, host, created, nonce}. It is written in full under a temporary name
 * and then hard-linked into place, which is as exclusive as O_EXCL (link fails if the name
 * exists) and means no one ever sees a half-written lock.
 *
 * A lock is stale when its process is gone (same host) or when it is older than STALE_AFTER_MS
 * (a holder keeps it for milliseconds; this also covers other hosts and reused pids). A stale
 * lock is taken over by renaming it aside and checking that what was moved is the lock that was
 * judged stale; if another process had replaced it in between, it is put back.
 */
import { randomBytes } from 'node:crypto';
import { link, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { MailopsError } from '../domain/errors.js';
import { processExists } from '../domain/process.js';

export interface LockOptions {
  /** How long to wait for a live holder before giving up with BUSY. */
  timeoutMs?: number;
  /** What the lock protects, for the BUSY message ("the secret file"). */
  what: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const STALE_AFTER_MS = 60_000;
const POLL_MS = 25;

interface LockInfo {
  pid: number;
  host: string;
  created: number;
  nonce: string;
}

export interface HeldLock {
  /** Throws BUSY if the lock was taken over (this holder was judged stale): do not commit. */
  assertHeld(): Promise<void>;
}

/** Runs `fn` while holding the lock at `lockPath`; releases it however `fn` ends. */
export async function withFileLock<T>(lockPath: string, options: LockOptions, fn: (lock: HeldLock) => Promise<T>): Promise<T> {
  const info: LockInfo = { pid: process.pid, host: hostname(), created: Date.now(), nonce: randomBytes(12).toString('hex') };
  const content = JSON.stringify(info);
  await acquire(lockPath, content, options);
  const lock: HeldLock = {
    async assertHeld() {
      const current = await readFile(lockPath, 'utf8').catch(() => null);
      if (current !== content) {
        throw new MailopsError('BUSY', `lost the lock on ${options.what} to another process`, { hint: 'try again' });
      }
    },
  };
  try {
    return await fn(lock);
  } finally {
    // Remove only our own lock: if we were judged stale, the file is someone else's now.
    const current = await readFile(lockPath, 'utf8').catch(() => null);
    if (current === content) await unlink(lockPath).catch(() => undefined);
  }
}

async function acquire(lockPath: string, content: string, options: LockOptions): Promise<void> {
  const staging = `${lockPath}.${process.pid}.${randomBytes(6).toString('hex')}`;
  await writeFile(staging, content, { mode: 0o600, flag: 'wx' });
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  try {
    for (;;) {
      try {
        await link(staging, lockPath);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = await readHolder(lockPath);
      // Free again (released between our link and our read, or stale and removed): retry at once.
      const freed = holder === null || ((await isStale(lockPath, holder)) && (await removeStale(lockPath, holder)));
      if (Date.now() >= deadline) throw busy(lockPath, holder ?? '', options.what);
      if (freed) continue;
      await sleep(POLL_MS + Math.random() * POLL_MS);
    }
  } finally {
    await unlink(staging).catch(() => undefined);
  }
}

/** The lock's content; null when it is gone; '' when it cannot be read (judged by its age). */
async function readHolder(lockPath: string): Promise<string | null> {
  try {
    return await readFile(lockPath, 'utf8');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? null : '';
  }
}

async function isStale(lockPath: string, holder: string): Promise<boolean> {
  const info = parseLock(holder);
  const created = info?.created ?? (await stat(lockPath).catch(() => null))?.mtimeMs ?? Date.now();
  if (Date.now() - created > STALE_AFTER_MS) return true;
  return info !== null && info.host === hostname() && !processExists(info.pid);
}

/** True when the slot is free again (by us or by someone else), false when we could not free it. */
async function removeStale(lockPath: string, holder: string): Promise<boolean> {
  const aside = `${lockPath}.stale.${process.pid}.${randomBytes(6).toString('hex')}`;
  try {
    await rename(lockPath, aside);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT'; // ENOENT: someone else removed it first
  }
  const moved = await readHolder(aside);
  const removed = moved === holder;
  if (!removed) {
    // A live lock taken after we judged the old one stale: give it back (unless the slot has
    // been filled again, in which case that holder's own assertHeld() check will catch it).
    await link(aside, lockPath).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
  return removed;
}

function parseLock(text: string): LockInfo | null {
  try {
    const value = JSON.parse(text) as Partial<LockInfo>;
    if (typeof value.pid === 'number' && typeof value.host === 'string' && typeof value.created === 'number') {
      return value as LockInfo;
    }
  } catch {
    // unreadable: judged by the file's age alone
  }
  return null;
}

function busy(lockPath: string, holder: string, what: string): MailopsError {
  const info = parseLock(holder);
  const by = info ? ` (pid ${info.pid} on ${info.host})` : '';
  return new MailopsError('BUSY', `${what} is locked by another mailops process${by}`, {
    hint: `try again; if no mailops process is running, delete ${lockPath}`,
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
