/**
 * Storing new messages on the second core. A first sync's time goes half to reading and parsing
 * what the server sends and half to SQLite storing it (bodies, the message rows, the FTS index,
 * WAL commits: measured in the README's performance notes). On one thread the two take turns;
 * here a worker (cache-writer-worker.ts) stores batch N while the main thread reads batch N+1.
 *
 * Order and crash safety are those of the main thread: batches are stored one at a time in the
 * order sent, each in one transaction with its token, and anything else the feed applies waits
 * until every batch sent before it is stored (idle()). At most WINDOW batches wait, so memory
 * stays bounded by the batch size. Opt-in (MAILOPS_SYNC_WRITER=thread, engine.ts says why).
 */
import { Worker } from 'node:worker_threads';
import type { MessageUpsert } from '../../domain/sync.js';
import type { Checkpoint } from '../../store/cache.js';
import type { UpsertAnswer, UpsertRequest } from './cache-writer-worker.js';
import { keepV8MemorySmallAfter } from './v8-memory.js';

/** Batches sent and not yet stored: one being stored, one waiting. */
const WINDOW = 2;

export class CacheWriter {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (stored: number) => void; reject: (error: unknown) => void }>();
  private readonly pending = new Set<Promise<number>>();
  private seq = 0;
  private failure: unknown = null;

  constructor(home: string) {
    // A small young generation, as the main thread keeps (cli/commands/sync.ts): the batches are garbage at once.
    this.worker = new Worker(new URL('./cache-writer-worker.js', import.meta.url), { workerData: { home }, resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 48 } });
    keepV8MemorySmallAfter(this.worker);
    this.worker.on('message', (answer: UpsertAnswer) => {
      const waiter = this.waiting.get(answer.seq);
      this.waiting.delete(answer.seq);
      if ('error' in answer) waiter?.reject(Object.assign(new Error(answer.error.message), { code: answer.error.code, name: answer.error.name }));
      else waiter?.resolve(answer.stored);
    });
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`the cache writer stopped (exit ${code})`)));
  }

  /**
   * Sends a batch once there is room; `onStored` is told how many were stored. A failure is
   * thrown by the next call to upsert() or idle().
   */
  async upsert(account: string, messages: MessageUpsert[], checkpoint: Checkpoint, onStored: (stored: number) => void): Promise<void> {
    while (this.pending.size >= WINDOW) await Promise.race(this.pending).catch(() => undefined);
    this.throwFailure();
    const seq = ++this.seq;
    const stored = new Promise<number>((resolve, reject) => this.waiting.set(seq, { resolve, reject }));
    const tracked = stored.then(
      (n) => {
        onStored(n);
        return n;
      },
      (error: unknown) => {
        this.failure ??= error;
        throw error;
      },
    );
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked)).catch(() => undefined);
    this.worker.postMessage({ seq, account, messages, checkpoint } satisfies UpsertRequest);
  }

  /** Every batch sent is stored (or the first failure is thrown). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.pending]);
    this.throwFailure();
  }

  /** Waits for what was sent, then ends the worker. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.pending]);
    this.worker.removeAllListeners('exit');
    this.worker.postMessage('close');
    await new Promise<void>((resolve) => {
      this.worker.once('exit', () => resolve());
      // A worker that does not end by itself is ended: a cron run never hangs on it.
      setTimeout(() => void this.worker.terminate().then(() => resolve()), 5000).unref();
    });
  }

  private fail(error: unknown): void {
    this.failure ??= error;
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }

  private throwFailure(): void {
    if (this.failure) throw this.failure;
  }
}
