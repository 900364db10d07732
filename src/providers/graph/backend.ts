/**
 * The Microsoft Graph backend as the registry knows it. Light on purpose: the provider and its
 * client are imported only when an account is used, so `--help` never loads them.
 */
import { MailopsError } from '../../domain/errors.js';
import type { BackendDefinition } from '../../domain/provider.js';
import { graphIds } from './ids.js';

export const graphBackend: BackendDefinition = {
  kind: 'graph',
  title: 'Microsoft Graph',
  capabilities: {
    folderIdIsPath: false,
    // A folder tree: a message is in one folder.
    multipleFolders: false,
    // $skip reaches any page of a listing (a $search is walked by its next links inside the provider).
    randomAccessPaging: true,
    // $count is exact for a folder and for $filter; a $search has none (its count is what was seen).
    exactTotals: true,
    move: true,
    // permanentDelete.
    deleteForever: true,
    // sendMail with saveToSentItems: Exchange files the copy itself.
    savesSentCopy: true,
    sync: true,
  },
  ids: graphIds,
  async create(config, credentials, runtime) {
    if (credentials.kind !== 'oauth2') {
      throw new MailopsError('FAILED', `account ${config.name} has no OAuth grant for Microsoft Graph`, { hint: `run mailops connect ${config.name} --backend api` });
    }
    const { createGraphProvider } = await import('./provider.js');
    return createGraphProvider(config, credentials, runtime);
  },
};
