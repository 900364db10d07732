/**
 * The worker side of wal-checkpointer.ts: its own connection to the database, and one PASSIVE
 * checkpoint for each request, answered with the WAL's size. PASSIVE never waits for the sync's
 * connection: it copies what is committed while the next transaction is written.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openForCheckpoints } from '../../store/db.js';

export type CheckpointRequest = 'checkpoint' | 'close';
/** `frames`: the WAL's length in frames after the checkpoint; `copied`: how many of them are in the database file. */
export type CheckpointAnswer = { frames: number; copied: number } | { error: string };

const db = openForCheckpoints((workerData as { file: string }).file);

parentPort!.on('message', (request: CheckpointRequest) => {
  if (request === 'close') {
    db.close();
    parentPort!.close();
    return;
  }
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)') as Array<{ busy: number; log: number; checkpointed: number }>;
    parentPort!.postMessage({ frames: result!.log, copied: result!.checkpointed } satisfies CheckpointAnswer);
  } catch (error) {
    parentPort!.postMessage({ error: (error as Error).message } satisfies CheckpointAnswer);
  }
});
