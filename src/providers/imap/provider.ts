/**
 * The IMAP/SMTP backend's provider. Its commands (imapflow for the mailbox, nodemailer for
 * submission: imapflow-provider.ts) are loaded on the first one called; sync's change feed runs
 * over a small client of our own (wire/, sync.ts) and loads none of them. A cron job's no-change
 * sync pays process start for every module it loads, so it loads only the feed's.
 */
import type { ChangeOutcome, Credentials, FetchedMessage, ListOptions, MailProvider, ProviderRuntime } from '../../domain/provider.js';
import type { QueryNode } from '../../domain/query.js';
import type { SyncEvent, SyncOptions } from '../../domain/sync.js';
import type { Envelope, FlagChange, Folder, MessageRef, OutgoingMessage, Page, SendReceipt, ServerEndpoint, VerifyResult } from '../../domain/types.js';
import { loadRootCertificates } from '../../net/tls.js';
import { abortError, mapImapError } from './errors.js';
import type { ImapCommands } from './imapflow-provider.js';
import { listFolders } from './folder-list.js';
import { toFolders } from './folders.js';
import { imapSyncFeed } from './sync.js';
import type { ConnectionAhead } from './wire/ahead.js';
import { WireClient } from './wire/client.js';

export interface ImapProviderConfig {
  email: string;
  imap: ServerEndpoint;
  smtp: ServerEndpoint;
  credentials: Credentials;
  insecure: boolean;
  caFile: string | null;
}

/** Work a connection will need that can be done while the credentials are being unlocked. */
export function prepareConnections(): void {
  loadRootCertificates();
}

/** `ahead`: a connection begun while the credentials were unlocked, for the first wire client. */
export function createImapProvider(config: ImapProviderConfig, runtime: ProviderRuntime, ahead: ConnectionAhead | null = null): MailProvider {
  return new ImapProvider(config, runtime, ahead);
}

class ImapProvider implements MailProvider {
  readonly kind = 'imap' as const;
  private loaded: Promise<ImapCommands> | null = null;
  /** Sync feeds' goodbyes in flight, waited for by close(). */
  private readonly loggingOut: Promise<void>[] = [];

  constructor(
    private readonly config: ImapProviderConfig,
    private readonly runtime: ProviderRuntime,
    private ahead: ConnectionAhead | null,
  ) {}

  private commands(): Promise<ImapCommands> {
    this.loaded ??= import('./imapflow-provider.js').then(({ createImapCommands }) => createImapCommands(this.config, this.runtime));
    return this.loaded;
  }

  async verify(signal: AbortSignal): Promise<VerifyResult> {
    return (await this.commands()).verify(signal);
  }

  async verifySend(signal: AbortSignal): Promise<VerifyResult> {
    return (await this.commands()).verifySend(signal);
  }

  async list(folder: string, options: ListOptions, signal: AbortSignal): Promise<Page<Envelope>> {
    return (await this.commands()).list(folder, options, signal);
  }

  async fetchMessage(ref: MessageRef, options: { peek: boolean }, signal: AbortSignal): Promise<FetchedMessage> {
    return (await this.commands()).fetchMessage(ref, options, signal);
  }

  async setFlags(refs: MessageRef[], change: FlagChange, signal: AbortSignal): Promise<ChangeOutcome> {
    return (await this.commands()).setFlags(refs, change, signal);
  }

  async send(message: OutgoingMessage, signal: AbortSignal): Promise<SendReceipt> {
    return (await this.commands()).send(message, signal);
  }

  async append(folder: string, raw: Buffer, flags: FlagChange, signal: AbortSignal): Promise<void> {
    return (await this.commands()).append!(folder, raw, flags, signal);
  }

  async move(refs: MessageRef[], to: string, signal: AbortSignal): Promise<ChangeOutcome> {
    return (await this.commands()).move!(refs, to, signal);
  }

  async deleteForever(refs: MessageRef[], signal: AbortSignal): Promise<ChangeOutcome> {
    return (await this.commands()).deleteForever!(refs, signal);
  }

  async explain(query: QueryNode | null, folder: string, signal: AbortSignal): Promise<string> {
    return (await this.commands()).explain!(query, folder, signal);
  }

  /**
   * The folder list runs over the small client too: it sends every STATUS at once where
   * imapflow waits for each answer in turn (a round trip a folder), and loads nothing heavy.
   */
  async listFolders(signal: AbortSignal): Promise<Folder[]> {
    const client = this.wireClient();
    const onAbort = () => client.close();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await client.open(signal);
      const { listed } = await listFolders(client);
      await client.logout();
      return toFolders(listed);
    } catch (err) {
      throw this.wireFailure(err, client, signal);
    } finally {
      signal.removeEventListener('abort', onAbort);
      client.close();
    }
  }

  /**
   * The change feed runs over its own small client (wire/), not imapflow: a sync that
   * finds nothing new then costs a login and one LIST-STATUS, with nothing heavy loaded.
   */
  async *syncChanges(state: ReadonlyMap<string, string>, options: SyncOptions, signal: AbortSignal): AsyncGenerator<SyncEvent> {
    const client = this.wireClient();
    // The feed runs many commands over minutes: an abort closes the connection under it.
    const onAbort = () => client.close();
    signal.addEventListener('abort', onAbort, { once: true });
    let loggingOut = false;
    try {
      await client.open(signal);
      yield* imapSyncFeed(client, state, options, signal);
      // LOGOUT's answer is waited for by close(), not here: the engine's last commit and the
      // report go on while it travels (a round trip saved over a slow link).
      this.loggingOut.push(client.logout());
      loggingOut = true;
    } catch (err) {
      throw this.wireFailure(err, client, signal);
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (!loggingOut) client.close();
    }
  }

  private wireClient(): WireClient {
    const { credentials, insecure, caFile, imap } = this.config;
    const ahead = this.ahead;
    this.ahead = null;
    return new WireClient({ endpoint: imap, credentials, insecure, caFile, runtime: this.runtime, ahead });
  }

  /** A wire client's failure explained as imapflow's are (errors.ts). */
  private wireFailure(err: unknown, client: WireClient, signal: AbortSignal): Error {
    if (signal.aborted) return abortError(signal);
    const { credentials, imap } = this.config;
    return mapImapError(err, { protocol: 'IMAP', ...imap, user: credentials.user, greeted: client.greeted }, this.runtime.timeoutMs);
  }

  async close(): Promise<void> {
    this.ahead?.discard();
    this.ahead = null;
    // The feed's LOGOUT, already sent (logout() never rejects, and gives up after a second).
    await Promise.all(this.loggingOut.splice(0));
    // Nothing more to close when no other command ran.
    if (this.loaded) await (await this.loaded).close();
  }
}
