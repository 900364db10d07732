/**
 * `sync` across accounts: in priority order, one lease per account, retries
 * with backoff on transient network failures inside a wall-clock budget, and
 * one failing account never stops the others. Progress commits as it goes
 * with the token that covers it (see apply.ts), so a retry or the next run
 * continues where this one stopped.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { MailopsError, exitCodeFor, isMailopsError, type ErrorCode } from '../../domain/errors.js';
import type { SyncOptions } from '../../domain/sync.js';
import { MessageCache } from '../../store/cache.js';
import { SyncLocks } from '../../store/sync-lock.js';
import type { StoredAccount } from '../../store/accounts.js';
import type { Session } from '../session.js';
import type { MailProvider } from '../../domain/provider.js';
import type { CacheWriter } from './cache-writer.js';
import type { WalCheckpointer } from './wal-checkpointer.js';
import { FeedApplier, type FolderReport, type SyncCounts } from './apply.js';
import type { HandOver } from './on-new.js';
import { storageError } from '../../store/db.js';

export interface SyncRequest {
  accounts: StoredAccount[];
  options: SyncOptions;
  /** Wait for another sync's lease instead of reporting busy. */
  wait: boolean;
  onNew: { command: string; unreadOnly: boolean; markRead: boolean } | null;
}

export interface AccountSummary extends SyncCounts {
  name: string;
  status: 'ok' | 'failed' | 'busy';
  durationMs: number;
  error: string | null;
  errorCode: ErrorCode | null;
  processed: number;
  processFailed: number;
  /** API quota units spent (the Gmail API); null for a backend without a quota. */
  quotaUnits: number | null;
}

export type SyncProgress =
  | { kind: 'account_start'; account: string }
  | { kind: 'folder'; account: string; report: FolderReport }
  | { kind: 'messages'; account: string; folder: string; count: number; bytes: number }
  /** Messages about to be fetched (a feed's estimate), for a progress bar's total. */
  | { kind: 'plan'; account: string; folder: string; messages: number }
  | { kind: 'retry'; account: string; attempt: number; delayMs: number; error: string }
  | { kind: 'handed_over'; account: string; result: HandOver }
  | { kind: 'account_done'; summary: AccountSummary };

const MAX_ATTEMPTS = 4;
const TRANSIENT: ReadonlySet<ErrorCode> = new Set(['NETWORK', 'TIMEOUT', 'CONNECTION_REFUSED', 'DNS_FAILED']);

export async function syncAccounts(
  session: Session,
  request: SyncRequest,
  progress: (event: SyncProgress) => void,
  io: { stderr: NodeJS.WritableStream; env: NodeJS.ProcessEnv },
  signal: AbortSignal,
): Promise<AccountSummary[]> {
  const summaries: AccountSummary[] = [];
  for (const account of request.accounts) {
    const summary = await syncOne(session, account, request, progress, io, signal);
    summaries.push(summary);
    progress({ kind: 'account_done', summary });
  }
  return summaries;
}

async function acquireLease(session: Session, name: string, wait: boolean, signal: AbortSignal) {
  const locks = new SyncLocks(session.db);
  for (;;) {
    const attempt = locks.acquire(name);
    if ('lease' in attempt) return attempt.lease;
    if (!wait) {
      throw new MailopsError('BUSY', `another sync (pid ${attempt.holder.pid} on ${attempt.holder.host}) holds ${name}`, {
        hint: 'try again later, or pass --wait',
      });
    }
    await sleep(500, undefined, { signal }).catch(() => {
      throw new MailopsError('BUSY', `gave up waiting for the sync of ${name} held by pid ${attempt.holder.pid}`);
    });
  }
}

async function syncOne(
  session: Session,
  account: StoredAccount,
  request: SyncRequest,
  progress: (event: SyncProgress) => void,
  io: { stderr: NodeJS.WritableStream; env: NodeJS.ProcessEnv },
  signal: AbortSignal,
): Promise<AccountSummary> {
  const name = account.config.name;
  const started = Date.now();
  const cache = new MessageCache(session.db);
  const applier = new FeedApplier(
    name,
    cache,
    session.folders,
    {
      folder: (report) => progress({ kind: 'folder', account: name, report }),
      messages: (folder, count, bytes) => progress({ kind: 'messages', account: name, folder, count, bytes }),
      plan: (folder, messages) => progress({ kind: 'plan', account: name, folder, messages }),
    },
    { writerFor: writerFor(session.options.home, io.env), checkpointerFor: checkpointerFor(session, io.env) },
  );
  const summary = (status: AccountSummary['status'], error: MailopsError | null, handed = { processed: 0, failed: 0 }): AccountSummary => ({
    name,
    status,
    ...applier.counts,
    durationMs: Date.now() - started,
    error: error?.message ?? null,
    errorCode: error?.code ?? null,
    processed: handed.processed,
    processFailed: handed.failed,
    quotaUnits,
  });
  /** Summed over the attempts: each has a provider of its own. */
  let quotaUnits: number | null = null;
  const countUnits = (provider: MailProvider) => {
    const units = provider.quotaUnits?.();
    if (units !== undefined) quotaUnits = (quotaUnits ?? 0) + units;
  };

  progress({ kind: 'account_start', account: name });
  let lease;
  try {
    lease = await acquireLease(session, name, request.wait, signal);
  } catch (error) {
    return summary('busy', error as MailopsError);
  }

  const run = session.db.prepare("INSERT INTO sync_runs (account, started_at, status) VALUES (?, ?, 'running')").run(name, new Date(started).toISOString());
  let failure: MailopsError | null = null;
  let handed = { processed: 0, failed: 0 };
  try {
    for (let attempt = 1; ; attempt++) {
      // Connected while the password is unlocked: the handshakes overlap the key derivation.
      const provider = await session.provider(account.config, undefined, { connectAhead: true });
      try {
        if (!provider.syncChanges) throw new MailopsError('UNSUPPORTED', `sync is not supported for ${provider.kind} accounts yet`);
        // --folders takes paths and @roles, per account: each has its own folder ids.
        const resolved = request.options.folders
          ? { ...request.options, folders: (await session.folderResolver(account.config, provider).resolveAll(request.options.folders)).map((f) => f.id) }
          : request.options;
        const options: SyncOptions = { ...resolved, cached: (ids) => cache.existing(name, ids), knownFolders: session.folders.list(name).folders };
        for await (const event of provider.syncChanges(cache.syncState(name), options, signal)) {
          await applier.apply(event);
          lease.renew();
        }
        await applier.drain();
        if (request.onNew && !signal.aborted) {
          const folders = options.folders ?? [inboxId(session, name)];
          // Loaded only for --on-new: a plain cron sync does without it.
          const { handOverNewMessages } = await import('./on-new.js');
          const codec = session.backend(account.config).ids;
          const variables = codec.hookVariables?.bind(codec);
          handed = await handOverNewMessages(session.db, name, provider, { ...request.onNew, folders, variables }, {
            ...io,
            signal,
            onResult: (result) => progress({ kind: 'handed_over', account: name, result }),
          });
        }
        countUnits(provider);
        if (signal.aborted) throw new MailopsError('INTERRUPTED', 'stopped before the sync finished (interrupted or out of time)');
        break;
      } catch (error) {
        if (!signal.aborted) countUnits(provider);
        // The next attempt starts from the tokens stored: every batch sent is stored first.
        await applier.drain().catch(() => undefined);
        const mapped = isMailopsError(error) ? error : (storageError(error, session.options.home) ?? new MailopsError('FAILED', (error as Error).message, { cause: error }));
        await session.closeProvider(provider);
        if (signal.aborted || !TRANSIENT.has(mapped.code) || attempt >= MAX_ATTEMPTS) throw mapped;
        // Transient: a new connection continues from the committed tokens.
        const delayMs = 500 * 2 ** (attempt - 1);
        progress({ kind: 'retry', account: name, attempt, delayMs, error: mapped.message });
        await sleep(delayMs, undefined, { signal }).catch(() => undefined);
      }
    }
  } catch (error) {
    failure = isMailopsError(error) ? error : (storageError(error, session.options.home) ?? new MailopsError('FAILED', (error as Error).message, { cause: error }));
  } finally {
    // Nothing is written for the account once its lease is given back.
    await applier.close().catch(() => undefined);
    lease.release();
  }
  // Everything else synced; the run still did not sync all (exit 1), and says which folders.
  if (!failure && applier.failedFolders.length) {
    failure = new MailopsError('FAILED', `the server refused ${applier.failedFolders.join('; ')}`, {
      hint: 'check the folder on the server (rights, or removed meanwhile); the other folders are synced',
    });
  }

  const result = summary(failure ? 'failed' : 'ok', failure, handed);
  session.db
    .prepare('UPDATE sync_runs SET finished_at = ?, status = ?, new = ?, updated = ?, deleted = ?, bytes = ?, error = ? WHERE id = ?')
    .run(new Date().toISOString(), result.status, result.new, result.updated, result.deleted, result.bytes, result.error, run.lastInsertRowid);
  session.accounts.recordSync(name, result.error);
  if (failure && exitCodeFor(failure.code) === 3) session.accounts.recordCheck(name, 'needs_reauth', failure.message);
  return result;
}

/**
 * MAILOPS_SYNC_WRITER=thread stores new messages on a second thread (cache-writer.ts). Measured
 * on the sync benchmark's first sync (10,000 messages, 600 MB stored): 14% less wall time, but
 * peak RSS 125 -> 210 MB (a second V8 and SQLite connection, and the batches copied across).
 * Memory matters more to a cron job than a first sync's seconds, so it is not the default.
 */
function writerFor(home: string, env: NodeJS.ProcessEnv): (messages: number) => Promise<CacheWriter> | null {
  if (env.MAILOPS_SYNC_WRITER !== 'thread') return () => null;
  // Loaded only then: a sync without it loads nothing of it.
  return () => import('./cache-writer.js').then(({ CacheWriter }) => new CacheWriter(home));
}

/**
 * A sync whose folders' plans add up to this many new messages (as they come) has its commits
 * checkpointed on a second thread (wal-checkpointer.ts). Its worker costs 9-14 MB of peak RSS. Measured on the sync
 * benchmark's first syncs (alternating runs on loopback): 50,000 small messages 9.3-10.3 s
 * against 12.0-12.8 s, peak RSS 91-93 against 80-82 MB; 10,000 messages (600 MB stored) within
 * the noise of this machine, and 103-108 MB against 94-98: past the 100 MB a first sync keeps
 * to. So only a sync this large pays for it, where the time saved grows with the sync.
 */
const CHECKPOINT_THREAD_FROM = 20_000;

/**
 * MAILOPS_SYNC_CHECKPOINT=inline keeps every checkpoint on the sync's own connection (SQLite's
 * default), =thread starts the checkpointer for any sync with new messages: both for measuring
 * and testing it.
 */
function checkpointerFor(session: Session, env: NodeJS.ProcessEnv): (messages: number) => Promise<WalCheckpointer | null> | null {
  const setting = env.MAILOPS_SYNC_CHECKPOINT;
  if (setting === 'inline') return () => null;
  const from = setting === 'thread' ? 1 : CHECKPOINT_THREAD_FROM;
  // Loaded only then: a sync of a few messages loads nothing of it.
  return (messages) => (messages >= from ? import('./wal-checkpointer.js').then(({ WalCheckpointer }) => WalCheckpointer.start(session.db)) : null);
}

/** The inbox's folder id as the last folder list had it (sync just stored one); IMAP's is INBOX. */
function inboxId(session: Session, account: string): string {
  return session.folders.list(account).folders.find((f) => f.role === 'inbox' && f.selectable)?.id ?? 'INBOX';
}

/**
 * The contract's exit code: 0 all synced; 75 when the only trouble was a
 * busy lease; 3 or 4 when every failure was authentication or network; else 1.
 */
export function syncExitCode(summaries: AccountSummary[]): number {
  const failed = summaries.filter((s) => s.status === 'failed');
  if (failed.length === 0) return summaries.some((s) => s.status === 'busy') ? 75 : summaries.some((s) => s.processFailed > 0) ? 1 : 0;
  const codes = new Set(failed.map((s) => (s.errorCode ? exitCodeFor(s.errorCode) : 1)));
  if (codes.size === 1 && (codes.has(3) || codes.has(4))) return [...codes][0]!;
  if ([...codes].every((c) => c === 3 || c === 4)) return 4;
  return codes.has(130) && codes.size === 1 ? 130 : 1;
}
