/**
 * Applies a backend's change feed (src/domain/sync.ts) to the cache, one event
 * at a time. Each event is its own transaction, committed with the checkpoint
 * (the scope's token) that covers it, so stopping between any two events loses
 * nothing and the next run continues from the last token committed. Batches of
 * new messages may be stored on another thread (cache-writer.ts), in the same
 * order and transactions.
 */
import type { SyncEvent } from '../../domain/sync.js';
import type { MessageCache } from '../../store/cache.js';
import type { FolderRepository } from '../../store/folders.js';
import type { CacheWriter } from './cache-writer.js';

export interface SyncCounts {
  folders: number;
  new: number;
  updated: number;
  deleted: number;
  bytes: number;
}

/** One scope's outcome: `folder` is the scope (a folder id, or '' for the account). */
export type FolderReport = {
  folder: string;
  status: 'unchanged' | 'synced' | 'failed';
  new: number;
  updated: number;
  deleted: number;
  error?: string;
};

export class FeedApplier {
  readonly counts: SyncCounts = { folders: 0, new: 0, updated: 0, deleted: 0, bytes: 0 };
  /** Folders the server refused, with its words: the run goes on and reports them at the end. */
  readonly failedFolders: string[] = [];
  private current: FolderReport | null = null;

  constructor(
    private readonly account: string,
    private readonly cache: MessageCache,
    private readonly folderList: FolderRepository,
    private readonly report: {
      folder(report: FolderReport): void;
      messages(folder: string, count: number, bytes: number): void;
      plan?(folder: string, messages: number): void;
    },
    private readonly options: {
      /** A writer for a folder planning this many new messages, or null to store them here. */
      writerFor?: (messages: number) => Promise<CacheWriter> | null;
    } = {},
  ) {}

  private writer: CacheWriter | null = null;

  /**
   * Applies one event. With a writer (cache-writer.ts), a batch of new messages is handed to it
   * and counted once stored, and any other event first waits until every batch before it is.
   */
  async apply(event: SyncEvent): Promise<void> {
    if (event.kind === 'plan' && !this.writer) {
      const starting = this.options.writerFor?.(event.messages);
      if (starting) this.writer = await starting;
    }
    if (event.kind === 'upsert' && this.writer) {
      const { scope, bytes } = event;
      await this.writer.upsert(this.account, event.messages, { scope, token: event.checkpoint }, (stored) => this.stored(scope, stored, bytes));
      return;
    }
    if (this.writer) await this.writer.idle();
    this.applyHere(event);
  }

  /** Every batch handed to the writer is stored (its failure thrown). */
  async drain(): Promise<void> {
    await this.writer?.idle();
  }

  /** Ends the writer, if one was started, after what it was sent. */
  async close(): Promise<void> {
    const writer = this.writer;
    this.writer = null;
    await writer?.close();
  }

  private applyHere(event: SyncEvent): void {
    const { account, cache } = this;
    switch (event.kind) {
      case 'folders': {
        this.folderList.replace(account, event.folders);
        const present = new Set(event.folders.filter((f) => f.selectable).map((f) => f.id));
        // Deleted or renamed on the server: a renamed folder comes back under its new id.
        for (const folder of cache.folderIds(account)) if (!present.has(folder)) cache.dropFolder(account, folder);
        return;
      }
      case 'plan':
        this.report.plan?.(event.scope, event.messages);
        return;
      case 'unchanged':
        this.counts.folders++;
        this.report.folder({ folder: event.scope, status: 'unchanged', new: 0, updated: 0, deleted: 0 });
        return;
      case 'reset':
        cache.reset(account, event.scope, event.checkpoint);
        this.folder(event.scope);
        return;
      case 'upsert':
        this.stored(event.scope, cache.upsert(account, event.messages, { scope: event.scope, token: event.checkpoint }), event.bytes);
        return;
      case 'flags':
        this.count(event.scope, 'updated', cache.setFlags(account, event.updates, { scope: event.scope, token: event.checkpoint }));
        return;
      case 'membership':
        this.count(event.scope, 'updated', cache.changeMemberships(account, event.changes, { scope: event.scope, token: event.checkpoint }));
        return;
      case 'gone':
        this.count(event.scope, 'deleted', cache.remove(account, event.ids, { scope: event.scope, token: event.checkpoint }));
        return;
      case 'present':
        this.count(event.scope, 'deleted', cache.keepOnly(account, event.scope, event.ids, event.upTo, { scope: event.scope, token: event.checkpoint }));
        return;
      case 'failed': {
        const report = { ...this.folder(event.scope), status: 'failed' as const, error: event.error };
        this.failedFolders.push(`${event.scope}: ${event.error}`);
        this.report.folder(report);
        this.current = null;
        return;
      }
      case 'checkpoint': {
        cache.checkpoint(account, event.scope, event.token, event.complete);
        if (!event.complete) return;
        const report = this.folder(event.scope);
        this.counts.folders++;
        this.report.folder(report);
        this.current = null;
        return;
      }
    }
  }

  private stored(scope: string, stored: number, bytes: number): void {
    this.count(scope, 'new', stored);
    this.counts.bytes += bytes;
    if (stored) this.report.messages(scope, stored, bytes);
  }

  private folder(path: string): FolderReport {
    if (this.current?.folder !== path) this.current = { folder: path, status: 'synced', new: 0, updated: 0, deleted: 0 };
    return this.current;
  }

  private count(path: string, what: 'new' | 'updated' | 'deleted', n: number): void {
    this.folder(path)[what] += n;
    this.counts[what] += n;
  }
}
