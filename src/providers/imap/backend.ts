/**
 * The IMAP/SMTP backend as the registry knows it: what it can do and how its ids read. Light on
 * purpose (no imapflow): the provider itself is imported only when an account is used.
 */
import { MailopsError } from '../../domain/errors.js';
import type { BackendDefinition, Prepared } from '../../domain/provider.js';
import { imapIds } from './ids.js';

export const imapBackend: BackendDefinition = {
  kind: 'imap',
  title: 'IMAP/SMTP',
  capabilities: {
    folderIdIsPath: true,
    multipleFolders: false,
    randomAccessPaging: true,
    exactTotals: true,
    // Both need UIDPLUS or MOVE on the server; the provider says so per server (exit 6).
    move: true,
    deleteForever: true,
    savesSentCopy: false,
    sync: true,
  },
  ids: imapIds,
  async prepare(config, runtime, { connectAhead }) {
    // The connection first, from a small module: its handshakes then run while the provider's
    // modules load (and its TLS context parses the root certificates prepareConnections would).
    let ahead: Prepared | undefined;
    if (connectAhead && config.imap) {
      const { ConnectionAhead } = await import('./wire/ahead.js');
      ahead = new ConnectionAhead({ endpoint: config.imap, insecure: config.insecure, caFile: config.caFile, runtime });
    }
    (await import('./provider.js')).prepareConnections();
    return ahead;
  },
  async create(config, credentials, runtime, prepared) {
    if (!config.imap || !config.smtp) {
      throw new MailopsError('FAILED', `account ${config.name} has no IMAP or SMTP server settings`, {
        hint: `run mailops connect ${config.name} again`,
      });
    }
    const [{ createImapProvider }, { ConnectionAhead }] = await Promise.all([import('./provider.js'), import('./wire/ahead.js')]);
    return createImapProvider(
      { email: config.email, imap: config.imap, smtp: config.smtp, credentials, insecure: config.insecure, caFile: config.caFile },
      runtime,
      prepared instanceof ConnectionAhead ? prepared : null,
    );
  },
};
