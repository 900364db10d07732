/**
 * `mailops sync [NAME...]`: bring the local cache up to date, for cron.
 * Never prompts. A summary on stdout (table, TSV, --json), events with
 * --ndjson, a progress line on a TTY (stderr).
 */
import { MailopsError } from '../../domain/errors.js';
import type { SyncOptions } from '../../domain/sync.js';
// The two parsers, not the query language: cron runs this every few minutes.
import { parseDay } from '../../core/query/dates.js';
import { parseSize } from '../../core/query/sizes.js';
import { syncAccounts, syncExitCode, type AccountSummary, type SyncProgress } from '../../core/sync/engine.js';
import { keepV8MemorySmall } from '../../core/sync/v8-memory.js';
import { requireAccess } from '../../providers/access.js';
import type { CliContext } from '../context.js';
import { withSession } from '../session.js';
import { printJson, printNdjson, printRows } from '../output.js';
import type { Options } from './sync.spec.js';

function summaryJson(s: AccountSummary) {
  return {
    name: s.name,
    status: s.status,
    folders: s.folders,
    new: s.new,
    updated: s.updated,
    deleted: s.deleted,
    bytes: s.bytes,
    duration_ms: s.durationMs,
    error: s.error,
    error_code: s.errorCode,
    processed: s.processed,
    process_failed: s.processFailed,
    ...(s.quotaUnits === null ? {} : { quota_units: s.quotaUnits }),
  };
}

function eventJson(event: SyncProgress): Record<string, unknown> {
  switch (event.kind) {
    case 'account_start':
      return { event: 'account_start', account: event.account };
    case 'folder':
      return { event: 'folder', account: event.account, ...event.report };
    case 'messages':
      return { event: 'messages', account: event.account, folder: event.folder, count: event.count, bytes: event.bytes };
    case 'plan':
      return { event: 'plan', account: event.account, folder: event.folder, messages: event.messages };
    case 'retry':
      return { event: 'retry', account: event.account, attempt: event.attempt, delay_ms: event.delayMs, error: event.error };
    case 'handed_over':
      return {
        event: 'handed_over',
        account: event.account,
        folder: event.result.folder,
        id: event.result.id,
        uid: event.result.uid,
        message_id: event.result.messageId,
        ok: event.result.ok,
        exit_code: event.result.exitCode,
      };
    case 'account_done':
      return { event: 'account_done', ...summaryJson(event.summary) };
  }
}

export function syncOptions(options: Options): SyncOptions {
  if ((options.unreadOnly || options.markRead) && !options.onNew) {
    throw new MailopsError('USAGE', '--unread-only and --mark-read go with --on-new');
  }
  const folders = options.folders?.split(',').map((f) => f.trim()).filter(Boolean) ?? null;
  if (folders && folders.length === 0) throw new MailopsError('INVALID_VALUE', '--folders needs at least one folder');
  return {
    folders,
    full: options.full === true,
    since: options.since ? parseDay(options.since) : null,
    headersOnly: options.headersOnly === true,
    bodyLimit: parseSize(options.maxBody),
    batchSize: 200,
  };
}

async function rebuildCacheFirst(ctx: CliContext): Promise<void> {
  const { rebuildCache } = await import('../../store/rebuild.js');
  const outcome = rebuildCache(ctx.home);
  if (outcome.setAside) ctx.note(`the old database is kept as ${outcome.setAside}`);
  ctx.note(`cache rebuilt: ${outcome.accounts} account${outcome.accounts === 1 ? '' : 's'} carried over from ${outcome.accountsFrom === 'database' ? 'the old database' : outcome.accountsFrom}; the sync fills it again`);
  if (!outcome.processedKept) ctx.warn('the record of messages handed to --on-new could not be read from the old database: a sync with --on-new hands over again what it finds');
}

export async function run(ctx: CliContext, args: unknown[], options: Options): Promise<number> {
  const syncOpts = syncOptions(options);
  keepV8MemorySmall();
  const names = [...(args[0] as string[]), ...(options.account ? [options.account] : [])];
  // A wall-clock budget for cron: what is done by then stays done.
  const signal = options.maxTime ? AbortSignal.any([ctx.signal, AbortSignal.timeout(options.maxTime * 1000)]) : ctx.signal;
  return withSession(ctx, async (session) => {
    // Before anything opens the database: it may be the damaged file this sets aside.
    if (options.rebuildCache) await rebuildCacheFirst(ctx);
    const accounts = session.selectAccounts(names);
    // --mark-read changes mail: a read-only account says so before anything is synced or handed over.
    if (options.markRead) for (const account of accounts) requireAccess(account.config, 'change', 'mark messages read (sync --mark-read)');
    if (accounts.length === 0) ctx.note('no accounts: add one with mailops connect');

    // A terminal only: scripts and --json never see a bar (loaded only then).
    const bar = ctx.io.stderr.isTTY && !ctx.isMachineOutput ? await (await import('../progress.js')).SyncProgressBar.create(ctx.io.stderr) : null;
    const summaries = await syncAccounts(
      session,
      {
        accounts,
        options: syncOpts,
        wait: options.wait === true,
        onNew: options.onNew ? { command: options.onNew, unreadOnly: options.unreadOnly === true, markRead: options.markRead === true } : null,
      },
      (event) => {
        if (ctx.output === 'ndjson') printNdjson(ctx, eventJson(event));
        if (event.kind === 'account_start') bar?.start(event.account);
        if (event.kind === 'plan') bar?.plan(event.messages);
        if (event.kind === 'messages') bar?.advance(event.count, event.bytes);
        if (event.kind === 'retry') ctx.warn(`${event.account}: ${event.error}; retrying in ${event.delayMs} ms`);
        if (event.kind === 'handed_over' && !event.result.ok) {
          ctx.warn(`${event.account}: --on-new failed for ${event.result.id} in ${event.result.folder} (exit ${event.result.exitCode}); it will be handed over again next run`);
        }
        if (event.kind === 'account_done') {
          bar?.stop();
          if (event.summary.error && !ctx.isMachineOutput) ctx.warn(`${event.summary.name}: ${event.summary.error}`);
        }
      },
      { stderr: ctx.io.stderr, env: ctx.env },
      signal,
    );
    bar?.stop();

    if (ctx.output === 'json') printJson(ctx, { accounts: summaries.map(summaryJson) });
    else if (ctx.output !== 'ndjson') {
      await printRows(
        ctx,
        [{ header: 'ACCOUNT' }, { header: 'STATUS' }, { header: 'FOLDERS' }, { header: 'NEW' }, { header: 'UPDATED' }, { header: 'DELETED' }, { header: 'BYTES' }, { header: 'MS' }, { header: 'ERROR', maxWidth: 60 }],
        summaries.map((s) => [s.name, s.status, String(s.folders), String(s.new), String(s.updated), String(s.deleted), String(s.bytes), String(s.durationMs), s.error ?? '']),
      );
    }
    return syncExitCode(summaries);
  });
}
