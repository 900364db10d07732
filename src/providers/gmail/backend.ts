/**
 * The Gmail API backend as the registry knows it. Light on purpose: the provider and its client
 * are imported only when an account is used, so `--help` never loads them.
 */
import { MailopsError } from '../../domain/errors.js';
import type { BackendDefinition } from '../../domain/provider.js';
import { gmailIds } from './ids.js';

export const gmailBackend: BackendDefinition = {
  kind: 'gmail',
  title: 'the Gmail API',
  capabilities: {
    folderIdIsPath: false,
    // Labels: one message, several folders.
    multipleFolders: true,
    // messages.list pages by token: page N is reached by walking N-1 pages.
    randomAccessPaging: false,
    // A label's count is exact; a filtered list has only resultSizeEstimate.
    exactTotals: false,
    move: true,
    // messages.batchDelete, with the full scope (connect --scope-full).
    deleteForever: true,
    // Gmail files what it sends in Sent by itself.
    savesSentCopy: true,
    sync: true,
  },
  ids: gmailIds,
  async create(config, credentials, runtime) {
    if (credentials.kind !== 'oauth2') {
      throw new MailopsError('FAILED', `account ${config.name} has no OAuth grant for the Gmail API`, { hint: `run mailops connect ${config.name} --backend api` });
    }
    const { createGmailProvider } = await import('./provider.js');
    return createGmailProvider(config, credentials, runtime);
  },
};
