/**
 * The Microsoft Graph backend: the folder tree as folders (folders.ts), immutable ids as ids
 * (ids.ts), envelopes by `$select` (envelope.ts), the query language as `$filter` or `$search` plus
 * a check of what they cannot say (query.ts), and the throttled client (api.ts). The change feed
 * is sync.ts.
 */
import type { MailFolder, Message } from '@microsoft/microsoft-graph-types';
import { MailopsError } from '../../domain/errors.js';
import type { ChangeOutcome, Credentials, FetchedMessage, ListOptions, MailProvider, ProviderRuntime } from '../../domain/provider.js';
import type { QueryNode } from '../../domain/query.js';
import type { SyncEvent, SyncOptions } from '../../domain/sync.js';
import type { AccountConfig, Envelope, FlagChange, Folder, MessageRef, OutgoingMessage, Page, SendReceipt, VerifyResult } from '../../domain/types.js';
import { requireAccess } from '../access.js';
import { GraphApi, type BatchAnswer, type CallOptions, type GraphRequest } from './api.js';
import { envelopeQuery, toEnvelope } from './envelope.js';
import { listGraphFolders } from './folders.js';
import { compileGraphQuery, explainGraphQuery, mayMatch } from './query.js';
import { sendMime } from './send.js';

/** Graph's largest page of messages. */
const PAGE_LIMIT = 1000;
/** `$search` answers at most this many messages. */
export const SEARCH_CAP = 1000;

interface MessagePage {
  value?: Message[];
  '@odata.count'?: number;
  '@odata.nextLink'?: string;
}

export function createGraphProvider(config: AccountConfig, credentials: Extract<Credentials, { kind: 'oauth2' }>, runtime: ProviderRuntime): GraphProvider {
  return new GraphProvider(config, new GraphApi({ accessToken: credentials.accessToken, runtime, accountName: config.name }));
}

export class GraphProvider implements MailProvider {
  readonly kind = 'graph' as const;

  constructor(
    readonly config: AccountConfig,
    readonly api: GraphApi,
  ) {}

  /** The inbox folder: the cheapest call every mail scope allows (Graph has no profile for Mail.Read). */
  async verify(signal: AbortSignal): Promise<VerifyResult> {
    const started = Date.now();
    const inbox = await this.api.json<MailFolder>({ method: 'GET', path: '/me/mailFolders/inbox', query: { $select: 'id,totalItemCount,unreadItemCount' }, what: 'mailFolders.get' }, { signal });
    const ms = Date.now() - started;
    return {
      checks: [{ step: 'inbox', ok: true, ms, detail: `inbox: ${inbox.totalItemCount ?? 0} messages, ${inbox.unreadItemCount ?? 0} unread` }],
      latencyMs: ms,
      capabilities: [],
    };
  }

  /** Graph sends through the same API and grant: the inbox call proves the grant works. */
  verifySend(signal: AbortSignal): Promise<VerifyResult> {
    return this.verify(signal);
  }

  /** `known`: the folder list of the last sync, whose roles need not be asked for again. */
  listFolders(signal: AbortSignal, known?: readonly Folder[]): Promise<Folder[]> {
    return listGraphFolders(this.api, { signal }, known);
  }

  async list(folder: string, options: ListOptions, signal: AbortSignal): Promise<Page<Envelope>> {
    const compiled = compileGraphQuery(options.query);
    const call = { signal, notFound: () => folderNotFound(folder) };
    if (compiled.search !== null) return this.searchPage(folder, compiled.search, options, call);
    const { limit, page } = options.page;
    const listed = await this.api.json<MessagePage>(
      {
        method: 'GET',
        path: `/me/mailFolders/${encodeURIComponent(folder)}/messages`,
        query: {
          ...envelopeQuery(),
          $filter: compiled.filter ?? undefined,
          $orderby: 'receivedDateTime desc',
          $top: Math.min(limit, PAGE_LIMIT),
          $skip: (page - 1) * limit || undefined,
          $count: true,
        },
        what: 'messages.list',
      },
      call,
    );
    const envelopes = (listed.value ?? []).map((m) => toEnvelope(m, folder));
    const items = envelopes.filter((e) => mayMatch(options.query, e));
    const counted = listed['@odata.count'];
    const seen = (page - 1) * limit + envelopes.length;
    const hasNext = Boolean(listed['@odata.nextLink']) || (typeof counted === 'number' && counted > seen);
    // The count is Graph's for what the filter matched; what the local check dropped here is not in it either.
    let total = typeof counted === 'number' ? counted : seen + (hasNext ? 1 : 0);
    total -= envelopes.length - items.length;
    const totalIsEstimate = typeof counted !== 'number' || (compiled.checksLocally && hasNext);
    return { items, total: Math.max(total, (page - 1) * limit + items.length), totalIsEstimate, page, pageSize: limit, hasNext, nextCursor: null };
  }

  /**
   * A `$search` answers in its own order, without `$orderby`, `$skip` or a count, and at most
   * 1,000 messages: all of them are read (four pages of 250 at most), checked here, put newest
   * first, and the page cut from that.
   */
  private async searchPage(folder: string, search: string, options: ListOptions, call: CallOptions): Promise<Page<Envelope>> {
    const { limit, page } = options.page;
    const found: Envelope[] = [];
    let next: string | undefined = `/me/mailFolders/${encodeURIComponent(folder)}/messages`;
    let query: GraphRequest['query'] = { ...envelopeQuery(), $search: `"${search}"`, $top: 250 };
    let read = 0;
    while (next && read < SEARCH_CAP) {
      const listed: MessagePage = await this.api.json<MessagePage>({ method: 'GET', path: next, query, what: 'messages.search' }, call);
      for (const m of listed.value ?? []) {
        read++;
        const envelope = toEnvelope(m, folder);
        if (mayMatch(options.query, envelope)) found.push(envelope);
      }
      next = listed['@odata.nextLink'];
      query = undefined;
    }
    found.sort((a, b) => (b.received?.getTime() ?? 0) - (a.received?.getTime() ?? 0));
    const items = found.slice((page - 1) * limit, page * limit);
    return {
      items,
      total: found.length,
      // At the cap, Graph may have had more to say.
      totalIsEstimate: read >= SEARCH_CAP,
      page,
      pageSize: limit,
      hasNext: page * limit < found.length,
      nextCursor: null,
    };
  }

  async fetchMessage(ref: MessageRef, options: { peek: boolean }, signal: AbortSignal): Promise<FetchedMessage> {
    const call = { signal, notFound: () => messageNotFound(ref.id) };
    const [raw, message] = await Promise.all([
      this.api.mime(ref.id, call),
      this.api.json<Message>({ method: 'GET', path: `/me/messages/${encodeURIComponent(ref.id)}`, query: envelopeQuery(), what: 'messages.get' }, call),
    ]);
    const envelope = toEnvelope(message, ref.folder);
    if (envelope.size === 0) envelope.size = raw.length;
    if (!options.peek && !envelope.flags.seen) {
      await this.api.json({ method: 'PATCH', path: `/me/messages/${encodeURIComponent(ref.id)}`, json: { isRead: true }, what: 'messages.update' }, call);
      envelope.flags = { ...envelope.flags, seen: true };
    }
    return { raw, envelope };
  }

  async setFlags(refs: MessageRef[], change: FlagChange, signal: AbortSignal): Promise<ChangeOutcome> {
    requireAccess(this.config, 'change', 'change flags');
    if (change.answered !== undefined) {
      throw new MailopsError('UNSUPPORTED', 'Microsoft Graph keeps no answered state to change', { hint: 'mark --read/--unread and --flagged/--unflagged work on Graph accounts' });
    }
    if (change.draft !== undefined) throw new MailopsError('UNSUPPORTED', 'the draft state of a message cannot be changed over Microsoft Graph');
    const patch: Partial<Message> = {};
    if (change.seen !== undefined) patch.isRead = change.seen;
    if (change.flagged !== undefined) patch.flag = { flagStatus: change.flagged ? 'flagged' : 'notFlagged' };
    if (Object.keys(patch).length === 0) return { processed: refs.length, missing: [] };
    const answers = await this.api.batch<Message>(
      refs.map((ref) => ({ method: 'PATCH' as const, path: `/me/messages/${encodeURIComponent(ref.id)}`, json: patch, query: { $select: 'id' }, what: 'messages.update' })),
      { signal },
    );
    return this.outcome(refs, answers, 'messages.update');
  }

  /** To a folder id; the immutable id stays the message's. */
  async move(refs: MessageRef[], to: string, signal: AbortSignal): Promise<ChangeOutcome> {
    requireAccess(this.config, 'change', 'move messages');
    await this.requireFolder(to, signal);
    const answers = await this.api.batch<Message>(
      refs.map((ref) => ({ method: 'POST' as const, path: `/me/messages/${encodeURIComponent(ref.id)}/move`, json: { destinationId: to }, query: { $select: 'id' }, what: 'messages.move' })),
      { signal },
    );
    return this.outcome(refs, answers, 'messages.move');
  }

  async deleteForever(refs: MessageRef[], signal: AbortSignal): Promise<ChangeOutcome> {
    requireAccess(this.config, 'delete', 'delete messages for good');
    const answers = await this.api.batch<null>(
      refs.map((ref) => ({ method: 'POST' as const, path: `/me/messages/${encodeURIComponent(ref.id)}/permanentDelete`, what: 'messages.permanentDelete' })),
      { signal },
    );
    return this.outcome(refs, answers, 'messages.permanentDelete');
  }

  async send(message: OutgoingMessage, signal: AbortSignal): Promise<SendReceipt> {
    requireAccess(this.config, 'send', 'send mail');
    await sendMime(this.api, message.raw, { signal });
    // sendMail answers 202: accepted for delivery, not delivered.
    return { messageId: message.messageId, accepted: message.envelope.to, rejected: [], providerSavedCopy: true };
  }

  async explain(query: QueryNode | null, folder: string): Promise<string> {
    return explainGraphQuery(query, folder);
  }

  async *syncChanges(state: ReadonlyMap<string, string>, options: SyncOptions, signal: AbortSignal): AsyncGenerator<SyncEvent> {
    const { graphSyncFeed } = await import('./sync.js');
    yield* graphSyncFeed(this, state, options, signal);
  }

  async close(): Promise<void> {
    // Nothing held open: each request is its own (keep-alive sockets close with the process).
  }

  /** Which refs the answers found; a not-found is a missing ref, any other failure an error. */
  private outcome(refs: MessageRef[], answers: Array<BatchAnswer<unknown>>, what: string): ChangeOutcome {
    const missing: MessageRef[] = [];
    answers.forEach((answer, i) => {
      if (answer.status >= 200 && answer.status < 300) return;
      const error = this.api.partError(answer, what, { notFound: () => messageNotFound(refs[i]!.id) });
      if (error.code === 'MESSAGE_NOT_FOUND') missing.push(refs[i]!);
      else throw error;
    });
    return { processed: refs.length - missing.length, missing };
  }

  private async requireFolder(id: string, signal: AbortSignal): Promise<void> {
    await this.api.json({ method: 'GET', path: `/me/mailFolders/${encodeURIComponent(id)}`, query: { $select: 'id' }, what: 'mailFolders.get' }, { signal, notFound: () => folderNotFound(id) });
  }
}

export function messageNotFound(id: string): MailopsError {
  return new MailopsError('MESSAGE_NOT_FOUND', `no message with id ${id}`, { hint: 'ids come from mailops ls or search' });
}

export function folderNotFound(id: string): MailopsError {
  return new MailopsError('FOLDER_NOT_FOUND', `no Graph mail folder with id ${id}`, { hint: 'see mailops folders' });
}
