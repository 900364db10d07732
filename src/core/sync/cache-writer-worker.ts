/**
 * The worker side of cache-writer.ts: its own connection to the home's database, and
 * MessageCache.upsert for each batch it is sent, one at a time, in order. Each batch is one
 * transaction with the token that covers it, as on the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { MessageUpsert } from '../../domain/sync.js';
import { MessageCache, type Checkpoint } from '../../store/cache.js';
import { openDatabase } from '../../store/db.js';

export interface UpsertRequest {
  seq: number;
  account: string;
  messages: MessageUpsert[];
  checkpoint: Checkpoint;
}

export type UpsertAnswer = { seq: number; stored: number } | { seq: number; error: { message: string; code?: string; name: string } };

const db = openDatabase((workerData as { home: string }).home);
const cache = new MessageCache(db);

parentPort!.on('message', (request: UpsertRequest | 'close') => {
  if (request === 'close') {
    db.close();
    parentPort!.close();
    return;
  }
  try {
    // Structured cloning turns a Buffer into a plain Uint8Array: SQLite should get bytes as a Buffer.
    for (const { message } of request.messages) {
      const raw = message.raw as Uint8Array | null;
      if (raw && !Buffer.isBuffer(raw)) message.raw = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    }
    const stored = cache.upsert(request.account, request.messages, request.checkpoint);
    parentPort!.postMessage({ seq: request.seq, stored } satisfies UpsertAnswer);
  } catch (error) {
    const { message, code, name } = error as { message: string; code?: string; name: string };
    parentPort!.postMessage({ seq: request.seq, error: { message, code, name } } satisfies UpsertAnswer);
  }
});
