/**
 * Ingestion: `sync --on-new CMD` hands each message not yet processed to CMD
 * (raw message on stdin, MAILOPS_* variables describing it). A message counts
 * as processed only when CMD exits 0, and is recorded by Message-ID + size
 * (or a content hash), so it is never handed over twice: not on the next
 * run, not after a UIDVALIDITY change refetched it under new UIDs, not when
 * it is in two of the folders handed over.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { Database } from '../../store/db.js';
import { MessageCache, type CachedMessage } from '../../store/cache.js';
import type { MailProvider } from '../../domain/provider.js';
import type { MessageRef } from '../../domain/types.js';

export interface OnNewOptions {
  command: string;
  unreadOnly: boolean;
  markRead: boolean;
  /** Folder ids whose messages are handed over. */
  folders: string[];
  /**
   * Variables the backend adds for a message (IMAP: MAILOPS_UIDVALIDITY); core cannot read
   * them out of an opaque id.
   */
  variables?: (ref: MessageRef) => Record<string, string>;
}

export interface HandOver {
  folder: string;
  /** The opaque id, as `ls` prints it. */
  id: string;
  /** Its number in the folder where the backend has one (IMAP UID), else null. */
  uid: number | null;
  messageId: string | null;
  ok: boolean;
  exitCode: number | null;
}

export function dedupeKey(message: Pick<CachedMessage, 'messageId' | 'size'>, raw: Buffer | null): string {
  if (message.messageId) return `mid:${message.messageId}:${message.size}`;
  return `sha256:${createHash('sha256').update(raw ?? Buffer.alloc(0)).digest('hex')}`;
}

function runHook(command: string, raw: Buffer, env: NodeJS.ProcessEnv, stderr: NodeJS.WritableStream, signal: AbortSignal): Promise<number | null> {
  return new Promise((resolve, reject) => {
    // Its stdout goes to our stderr: our stdout carries only sync's own data (--json).
    const child = spawn('/bin/sh', ['-c', command], { env, stdio: ['pipe', 'pipe', 'pipe'], signal });
    child.stdout.on('data', (chunk: Buffer) => stderr.write(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.write(chunk));
    // A command that does not read its input is its own business, not a crash of ours.
    child.stdin.on('error', () => {});
    child.stdin.end(raw);
    child.on('error', (error) => (signal.aborted ? resolve(null) : reject(error)));
    child.on('close', (code) => resolve(code));
  });
}

export async function handOverNewMessages(
  db: Database,
  account: string,
  provider: MailProvider,
  options: OnNewOptions,
  io: { stderr: NodeJS.WritableStream; env: NodeJS.ProcessEnv; signal: AbortSignal; onResult: (result: HandOver) => void },
): Promise<{ processed: number; failed: number }> {
  const cache = new MessageCache(db);
  const isProcessed = db.prepare('SELECT 1 FROM processed WHERE account = ? AND dedupe_key = ?').pluck();
  const record = db.prepare('INSERT OR IGNORE INTO processed (account, dedupe_key, folder, uid, processed_at) VALUES (?, ?, ?, ?, ?)');
  let processed = 0;
  let failed = 0;
  for (const folder of options.folders) {
    for (const { id, uid } of cache.folderMessages(account, folder)) {
      if (io.signal.aborted) return { processed, failed };
      const message = cache.get(account, id);
      if (!message) continue;
      if (options.unreadOnly && message.flags.seen) continue;
      // A cheap check first; messages without Message-ID need their bytes for the hash.
      if (message.messageId && isProcessed.get(account, dedupeKey(message, null))) continue;
      const ref: MessageRef = { id, folder };
      const raw = message.raw ?? (await provider.fetchMessage(ref, { peek: true }, io.signal)).raw;
      const key = dedupeKey(message, raw);
      if (isProcessed.get(account, key)) continue;
      const exitCode = await runHook(
        options.command,
        raw,
        {
          ...io.env,
          MAILOPS_ACCOUNT: account,
          MAILOPS_FOLDER: folder,
          MAILOPS_ID: id,
          MAILOPS_UID: uid === null ? '' : String(uid),
          ...options.variables?.(ref),
          MAILOPS_MESSAGE_ID: message.messageId ?? '',
          MAILOPS_SUBJECT: message.subject,
          MAILOPS_FROM: message.from?.address ?? '',
          MAILOPS_SIZE: String(raw.length),
        },
        io.stderr,
        io.signal,
      );
      const ok = exitCode === 0;
      if (ok) {
        record.run(account, key, folder, uid, new Date().toISOString());
        processed++;
        if (options.markRead && !message.flags.seen) {
          await provider.setFlags([ref], { seen: true }, io.signal);
          // No token moves: the next sync sees the same change on the server and agrees.
          cache.setFlags(account, [{ id, flags: { ...message.flags, seen: true } }], { scope: folder, token: undefined });
        }
      } else {
        failed++;
      }
      io.onResult({ folder, id, uid, messageId: message.messageId, ok, exitCode });
    }
  }
  return { processed, failed };
}
