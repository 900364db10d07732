/**
 * Applies a provider's change feed to the cache, one event at a time. Each
 * event is its own transaction; a batch of new messages commits with the
 * cursor that covers it, so stopping between any two events loses nothing.
 */
import type { SyncEvent } from '../../domain/sync.js';
import type { MessageCache } from '../../store/cache.js';
import type { FolderRepository } from '../../store/folders.js';

export interface SyncCounts {
  folders: number;
  new: number;
  updated: number;
  deleted: number;
  bytes: number;
}

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
    },
  ) {}

  apply(event: SyncEvent): void {
    const { account, cache } = this;
    switch (event.kind) {
      case 'folder_list': {
        this.folderList.replace(account, event.folders);
        const present = new Set(event.folders.filter((f) => f.selectable).map((f) => f.path));
        // Deleted or renamed on the server: a renamed folder comes back under its new name.
        for (const path of cache.cursors(account).keys()) if (!present.has(path)) cache.dropFolder(account, path);
        return;
      }
      case 'folder_unchanged':
        this.counts.folders++;
        this.report.folder({ folder: event.path, status: 'unchanged', new: 0, updated: 0, deleted: 0 });
        return;
      case 'folder_reset':
        cache.resetFolder(account, event.path, event.uidValidity);
        this.folder(event.path);
        return;
      case 'messages':
        cache.storeBatch(account, event.path, event.messages, event.lastUid);
        this.count(event.path, 'new', event.messages.length);
        this.counts.bytes += event.bytes;
        if (event.messages.length) this.report.messages(event.path, event.messages.length, event.bytes);
        return;
      case 'flags':
        this.count(event.path, 'updated', cache.applyFlags(account, event.path, event.updates));
        return;
      case 'expunged':
        this.count(event.path, 'deleted', cache.removeUids(account, event.path, event.uids));
        return;
      case 'present': {
        const still = new Set(event.uids);
        const gone = cache.cachedUids(account, event.path).filter((uid) => uid <= event.upTo && !still.has(uid));
        this.count(event.path, 'deleted', cache.removeUids(account, event.path, gone));
        return;
      }
      case 'folder_failed': {
        const report = { ...this.folder(event.path), status: 'failed' as const, error: event.error };
        this.failedFolders.push(`${event.path}: ${event.error}`);
        this.report.folder(report);
        this.current = null;
        return;
      }
      case 'folder_done': {
        cache.finishFolder(account, event.path, event.state);
        const report = this.folder(event.path);
        this.counts.folders++;
        this.report.folder(report);
        this.current = null;
        return;
      }
    }
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
