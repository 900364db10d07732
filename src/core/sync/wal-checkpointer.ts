/**
 * WAL checkpoints on the second core while a large sync writes. SQLite appends each commit to
 * the WAL and, every 1,000 pages, copies the WAL back into the database file on the connection
 * that committed: two fsyncs and the copy, on the sync's own thread, while it could be reading
 * the next messages. Measured on a first sync of 50,000 small messages, a third of SQLite's
 * commit time was those checkpoints (`synchronous=OFF`, which skips the fsyncs and is not an
 * option, took it from 1.7 to 0.65 s per 20,000 messages). Here a worker with its own connection
 * checkpoints after each commit instead, and the sync's connection stops checkpointing.
 *
 * A checkpoint on another connection never starts the WAL over (only a writer does, at the
 * start of a transaction, once everything is copied), so were the worker always a commit
 * behind, the WAL would grow with the whole sync. Usually it is done before the next group
 * begins, and the WAL starts over then. When it is not (a slow disk's fsyncs), and the WAL has
 * passed MAX_FRAMES or MAX_COMMITS_AHEAD commits came since the worker was last done, the sync
 * waits before its next transaction for the worker to copy everything committed; that
 * transaction then starts the WAL over. Durability is SQLite's as before (synchronous=NORMAL: a power cut may lose the
 * last commits, never the database): only which thread copies and syncs changes, and when.
 *
 * When the worker cannot start, or a checkpoint fails, the connection checkpoints itself again.
 */
import { Worker } from 'node:worker_threads';
import type { Database } from '../../store/db.js';
import type { CheckpointAnswer, CheckpointRequest } from './wal-checkpointer-worker.js';
import { keepV8MemorySmallAfter } from './v8-memory.js';

/** 4,096 frames of 16 KB pages: a WAL of about 64 MB between starts (SQLite's own: 16 MB). */
const MAX_FRAMES = 4096;
/** Commits made while the worker copied earlier ones (a sync's group is about 1 MB of mail). */
const MAX_COMMITS_AHEAD = 16;

/** How long close() waits for the worker's last checkpoint and its exit before ending it. */
const CLOSE_WITHIN_MS = 10_000;

interface Bounds {
  maxFrames: number;
  maxCommitsAhead: number;
}

export class WalCheckpointer {
  /** Starts the worker; null (and nothing changed) when it cannot start. Other bounds are for tests. */
  static async start(db: Database, bounds: Bounds = { maxFrames: MAX_FRAMES, maxCommitsAhead: MAX_COMMITS_AHEAD }): Promise<WalCheckpointer | null> {
    const worker = new Worker(new URL('./wal-checkpointer-worker.js', import.meta.url), {
      workerData: { file: db.name },
      // It holds nothing but its connection.
      resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 8 },
    });
    keepV8MemorySmallAfter(worker);
    const started = await new Promise<boolean>((resolve) => {
      worker.once('online', () => resolve(true));
      worker.once('error', () => resolve(false));
      worker.once('exit', () => resolve(false));
    });
    if (!started) {
      await worker.terminate();
      return null;
    }
    return new WalCheckpointer(db, worker, bounds);
  }

  /** The connection's own setting, given back at close(). */
  private readonly ownInterval: number;
  private running = false;
  /** A commit came while a checkpoint ran: one more follows it. */
  private again = false;
  /** The WAL's length at the last checkpoint, and the commits since the worker was last done. */
  private frames = 0;
  private commitsAhead = 0;
  private idleWaiters: Array<() => void> = [];
  private stopped = false;

  private constructor(
    private readonly db: Database,
    private readonly worker: Worker,
    private readonly bounds: Bounds,
  ) {
    this.ownInterval = db.pragma('wal_autocheckpoint', { simple: true }) as number;
    db.pragma('wal_autocheckpoint = 0');
    worker.on('message', (answer: CheckpointAnswer) => this.answered(answer));
    worker.on('error', () => this.stop());
    worker.on('exit', () => this.stop());
  }

  /** After a commit: the worker copies it (at most one checkpoint runs; commits meanwhile share the next). */
  committed(): void {
    if (this.stopped) return;
    this.commitsAhead++;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.worker.postMessage('checkpoint' satisfies CheckpointRequest);
  }

  /** The WAL is past its bound: wait (caughtUp) before the next transaction, which starts it over. */
  get behind(): boolean {
    return !this.stopped && (this.frames >= this.bounds.maxFrames || this.commitsAhead > this.bounds.maxCommitsAhead);
  }

  /** Everything committed so far is copied into the database file (or the worker stopped). */
  async caughtUp(): Promise<void> {
    this.committed();
    if (this.running) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    this.frames = 0;
    this.commitsAhead = 0;
  }

  /** Waits for the checkpoint running, ends the worker, and gives the connection its checkpoints back. */
  async close(): Promise<void> {
    if (!this.stopped) {
      // A worker that does not finish by itself is ended (stop() wakes the wait below): a cron
      // run never hangs on it, and the connection's own close checkpoints what is left.
      const timer = setTimeout(() => this.stop(), CLOSE_WITHIN_MS);
      timer.unref();
      if (this.running) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      if (!this.stopped) {
        this.stopped = true;
        this.worker.removeAllListeners('exit');
        const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
        this.worker.postMessage('close' satisfies CheckpointRequest);
        await Promise.race([exited, new Promise<void>((resolve) => setTimeout(resolve, CLOSE_WITHIN_MS).unref())]);
        void this.worker.terminate();
      }
      clearTimeout(timer);
    }
    this.restoreInterval();
  }

  private answered(answer: CheckpointAnswer): void {
    if ('error' in answer) {
      // The connection checkpoints again, and meets the same trouble with SQLite's own report.
      this.stop();
      return;
    }
    this.frames = answer.frames;
    this.running = false;
    if (this.again) {
      this.again = false;
      this.running = true;
      this.worker.postMessage('checkpoint' satisfies CheckpointRequest);
      return;
    }
    // Everything committed is copied: the next transaction starts the WAL over.
    this.commitsAhead = 0;
    this.wakeIdle();
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.running = false;
    this.again = false;
    this.restoreInterval();
    void this.worker.terminate();
    this.wakeIdle();
  }

  private restoreInterval(): void {
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${this.ownInterval}`);
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}
