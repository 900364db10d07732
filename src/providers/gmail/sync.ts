/**
 * The Gmail change feed (users.history from one historyId per account). Not written yet: sync
 * of a Gmail API account reports UNSUPPORTED until it is.
 */
import { MailopsError } from '../../domain/errors.js';
import type { SyncEvent, SyncOptions } from '../../domain/sync.js';
import type { GmailProvider } from './provider.js';

// eslint-disable-next-line require-yield
export async function* gmailSyncFeed(_provider: GmailProvider, _state: ReadonlyMap<string, string>, _options: SyncOptions, _signal: AbortSignal): AsyncGenerator<SyncEvent> {
  throw new MailopsError('UNSUPPORTED', 'sync of Gmail API accounts is not built yet');
}
