/**
 * The Gmail API backend: labels as folders (folders.ts), Gmail's message ids as ids (ids.ts),
 * envelopes from the metadata format through the batch endpoint, never one round trip per
 * message (envelope.ts), the query language as `q` plus a check of what `q` cannot say
 * (query.ts), and the quota-paced client (api.ts). The change feed is sync.ts.
 */
import type { gmail_v1 } from '@googleapis/gmail';
import { MailopsError } from '../../domain/errors.js';
import type { ChangeOutcome, Credentials, FetchedMessage, ListOptions, MailProvider, ProviderRuntime } from '../../domain/provider.js';
import type { QueryNode } from '../../domain/query.js';
import type { SyncEvent, SyncOptions } from '../../domain/sync.js';
import type { AccountConfig, Envelope, FlagChange, Folder, MessageRef, OutgoingMessage, Page, SendReceipt, VerifyResult } from '../../domain/types.js';
import { rawHeaderField } from '../../mime/raw-header.js';
import { requireAccess } from '../access.js';
import { GmailApi, type ApiCall, type CallOptions } from './api.js';
import { METADATA_HEADERS, toEnvelope } from './envelope.js';
import { ALL_MAIL, toFolders } from './folders.js';
import { compileGmailQuery, explainGmailQuery, mayMatch } from './query.js';

/** batchModify takes 1,000 ids a call. */
const MODIFY_LIMIT = 1000;
/** messages.list returns at most 500 a page. */
const LIST_LIMIT = 500;

export function createGmailProvider(config: AccountConfig, credentials: Extract<Credentials, { kind: 'oauth2' }>, runtime: ProviderRuntime): GmailProvider {
  return new GmailProvider(config, new GmailApi({ accessToken: credentials.accessToken, runtime, accountName: config.name }));
}

export class GmailProvider implements MailProvider {
  readonly kind = 'gmail' as const;

  constructor(
    readonly config: AccountConfig,
    readonly api: GmailApi,
  ) {}

  async verify(signal: AbortSignal): Promise<VerifyResult> {
    const started = Date.now();
    const profile = await this.api.getProfile({ signal });
    const ms = Date.now() - started;
    return {
      checks: [{ step: 'profile', ok: true, ms, detail: `${profile.emailAddress ?? '?'}: ${profile.messagesTotal ?? 0} messages` }],
      latencyMs: ms,
      capabilities: [],
      ...(profile.emailAddress ? { address: profile.emailAddress } : {}),
    };
  }

  /** Gmail sends through the same API and grant: the profile call proves both. */
  verifySend(signal: AbortSignal): Promise<VerifyResult> {
    return this.verify(signal);
  }

  async listFolders(signal: AbortSignal): Promise<Folder[]> {
    const options = { signal };
    const [{ labels = [] }, profile] = await Promise.all([this.api.listLabels(options), this.api.getProfile(options)]);
    const folderLabels = toFolders(labels, new Map(), { total: null }).filter((f) => f.id !== ALL_MAIL);
    // labels.list has no counts: one labels.get each, fifty to a batch.
    const answers = await this.api.batch<gmail_v1.Schema$Label>(
      folderLabels.map((f) => ({ method: 'labels.get', http: 'GET', path: `/labels/${encodeURIComponent(f.id)}` })),
      options,
    );
    const counts = new Map<string, { total: number | null; unread: number | null }>();
    answers.forEach((answer, i) => {
      if (answer.ok) counts.set(folderLabels[i]!.id, { total: answer.value.messagesTotal ?? null, unread: answer.value.messagesUnread ?? null });
    });
    return toFolders(labels, counts, { total: profile.messagesTotal ?? null });
  }

  async list(folder: string, options: ListOptions, signal: AbortSignal): Promise<Page<Envelope>> {
    const { limit, page, cursor } = options.page;
    const compiled = compileGmailQuery(options.query);
    const listed = await this.api.listMessages(
      { labelIds: folder === ALL_MAIL ? undefined : [folder], q: compiled.q, maxResults: Math.min(limit, LIST_LIMIT), pageToken: cursor ?? undefined },
      { signal, notFound: () => folderNotFound(folder) },
    );
    const ids = (listed.messages ?? []).map((m) => m.id!).filter(Boolean);
    const envelopes = await this.envelopes(ids, folder, { signal });
    const items = envelopes.filter((e) => mayMatch(options.query, e));
    // Newest first by arrival, as on every backend; Gmail lists so already, this keeps it true within a page.
    items.sort((a, b) => (b.received?.getTime() ?? 0) - (a.received?.getTime() ?? 0));
    const hasNext = Boolean(listed.nextPageToken);
    let total = listed.resultSizeEstimate ?? items.length;
    let totalIsEstimate = true;
    if (!options.query && folder !== ALL_MAIL) {
      // Unfiltered: the label's own count is exact.
      const label = await this.api.getLabel(folder, { signal, notFound: () => folderNotFound(folder) });
      if (typeof label.messagesTotal === 'number') {
        total = label.messagesTotal;
        totalIsEstimate = false;
      }
    }
    // What the local check dropped is not in the total either (Gmail counted what q matched).
    total -= envelopes.length - items.length;
    if (!hasNext && page === 1) {
      // The whole answer is on this page: its count is the total, exactly.
      total = items.length;
      totalIsEstimate = false;
    }
    // An estimate is never below what has been seen.
    total = Math.max(total, (page - 1) * limit + items.length + (hasNext ? 1 : 0));
    return { items, total, totalIsEstimate, page, pageSize: limit, hasNext, nextCursor: listed.nextPageToken ?? null };
  }

  /** Envelopes of these ids in order, through the batch endpoint; ids gone meanwhile are left out. */
  async envelopes(ids: string[], folder: string, options: CallOptions): Promise<Envelope[]> {
    if (ids.length === 0) return [];
    const answers = await this.api.batch<gmail_v1.Schema$Message>(ids.map((id) => metadataCall(id)), options);
    const envelopes: Envelope[] = [];
    for (const answer of answers) if (answer.ok) envelopes.push(toEnvelope(answer.value, folder));
    return envelopes;
  }

  async fetchMessage(ref: MessageRef, options: { peek: boolean }, signal: AbortSignal): Promise<FetchedMessage> {
    const notFound = () => messageNotFound(ref.id);
    const [raw, meta] = await Promise.all([
      this.api.getMessage(ref.id, 'raw', { signal, notFound }),
      this.api.call<gmail_v1.Schema$Message>(metadataCall(ref.id), { signal, notFound }),
    ]);
    const envelope = toEnvelope(meta, ref.folder);
    if (!options.peek && !envelope.flags.seen) {
      await this.api.call({ method: 'messages.modify', http: 'POST', path: `/messages/${encodeURIComponent(ref.id)}/modify`, json: { removeLabelIds: ['UNREAD'] } }, { signal, notFound });
      envelope.flags = { ...envelope.flags, seen: true };
    }
    return { raw: Buffer.from(raw.raw ?? '', 'base64url'), envelope };
  }

  async setFlags(refs: MessageRef[], change: FlagChange, signal: AbortSignal): Promise<ChangeOutcome> {
    requireAccess(this.config, 'change', 'change flags');
    const add: string[] = [];
    const remove: string[] = [];
    if (change.seen !== undefined) (change.seen ? remove : add).push('UNREAD');
    if (change.flagged !== undefined) (change.flagged ? add : remove).push('STARRED');
    if (change.answered !== undefined) {
      throw new MailopsError('UNSUPPORTED', 'Gmail keeps no answered state to change', { hint: 'mark --read/--unread and --flagged/--unflagged work on Gmail' });
    }
    if (change.draft !== undefined) throw new MailopsError('UNSUPPORTED', 'the draft state of a Gmail message cannot be changed');
    const { found, missing } = await this.existing(refs, signal);
    await this.modify(found.map((r) => r.id), add, remove, signal);
    return { processed: found.length, missing };
  }

  /**
   * Adds the target label and takes off the one the message was listed in. To the trash is
   * messages.trash (it also takes off INBOX, as Gmail's own trash does); to All Mail is an archive
   * (the source label off, nothing added).
   */
  async move(refs: MessageRef[], to: string, signal: AbortSignal): Promise<ChangeOutcome> {
    requireAccess(this.config, 'change', 'move messages');
    await this.requireFolder(to, signal);
    const { found, missing } = await this.existing(refs, signal);
    if (to === 'TRASH') {
      for (const ref of found) await this.api.call({ method: 'messages.trash', http: 'POST', path: `/messages/${encodeURIComponent(ref.id)}/trash` }, { signal });
      return { processed: found.length, missing };
    }
    // One batchModify per source folder: the label taken off differs.
    const bySource = new Map<string, string[]>();
    for (const ref of found) {
      const group = bySource.get(ref.folder) ?? [];
      group.push(ref.id);
      bySource.set(ref.folder, group);
    }
    for (const [source, ids] of bySource) {
      const remove = source === to || source === ALL_MAIL ? [] : [source];
      const add = to === ALL_MAIL ? [] : [to];
      // Out of Spam or Trash, a message comes back to the inbox only if told; taking the label off is what moves it.
      await this.modify(ids, add, remove, signal);
    }
    return { processed: found.length, missing };
  }

  async deleteForever(refs: MessageRef[], signal: AbortSignal): Promise<ChangeOutcome> {
    requireAccess(this.config, 'delete', 'delete messages for good');
    const { found, missing } = await this.existing(refs, signal);
    for (let i = 0; i < found.length; i += MODIFY_LIMIT) {
      const ids = found.slice(i, i + MODIFY_LIMIT).map((r) => r.id);
      await this.api.call({ method: 'messages.batchDelete', http: 'POST', path: '/messages/batchDelete', json: { ids } }, { signal });
    }
    return { processed: found.length, missing };
  }

  /** messages.send; a reply stays in its thread (the thread of the message its In-Reply-To names). */
  async send(message: OutgoingMessage, signal: AbortSignal): Promise<SendReceipt> {
    requireAccess(this.config, 'send', 'send mail');
    const threadId = await this.threadOf(rawHeaderField(message.raw, 'In-Reply-To'), signal);
    await this.api.send(message.raw, threadId, { signal });
    return { messageId: message.messageId, accepted: message.envelope.to, rejected: [], providerSavedCopy: true };
  }

  async explain(query: QueryNode | null, folder: string): Promise<string> {
    return explainGmailQuery(query, folder === ALL_MAIL ? [] : [folder]);
  }

  async *syncChanges(state: ReadonlyMap<string, string>, options: SyncOptions, signal: AbortSignal): AsyncGenerator<SyncEvent> {
    const { gmailSyncFeed } = await import('./sync.js');
    yield* gmailSyncFeed(this, state, options, signal);
  }

  quotaUnits(): number {
    return this.api.unitsSpent;
  }

  async close(): Promise<void> {
    // Nothing held open: each request is its own (keep-alive sockets close with the process).
  }

  private async modify(ids: string[], add: string[], remove: string[], signal: AbortSignal): Promise<void> {
    if (ids.length === 0 || (add.length === 0 && remove.length === 0)) return;
    for (let i = 0; i < ids.length; i += MODIFY_LIMIT) {
      await this.api.call(
        { method: 'messages.batchModify', http: 'POST', path: '/messages/batchModify', json: { ids: ids.slice(i, i + MODIFY_LIMIT), addLabelIds: add, removeLabelIds: remove } },
        { signal },
      );
    }
  }

  /** Which refs name messages that exist (batchModify would pass over a missing id without a word). */
  private async existing(refs: MessageRef[], signal: AbortSignal): Promise<{ found: MessageRef[]; missing: MessageRef[] }> {
    const answers = await this.api.batch<gmail_v1.Schema$Message>(
      refs.map((ref) => ({ method: 'messages.get', http: 'GET', path: `/messages/${encodeURIComponent(ref.id)}`, query: { format: 'minimal' } })),
      { signal },
    );
    const found: MessageRef[] = [];
    const missing: MessageRef[] = [];
    answers.forEach((answer, i) => (answer.ok ? found : missing).push(refs[i]!));
    return { found, missing };
  }

  private async requireFolder(id: string, signal: AbortSignal): Promise<void> {
    if (id === ALL_MAIL) return;
    await this.api.getLabel(id, { signal, notFound: () => folderNotFound(id) });
  }

  private async threadOf(inReplyTo: string | null, signal: AbortSignal): Promise<string | null> {
    const messageId = inReplyTo?.trim().replace(/^<+|>+$/g, '');
    if (!messageId) return null;
    const found = await this.api.listMessages({ q: `rfc822msgid:${messageId}`, maxResults: 1, includeSpamTrash: true }, { signal });
    return found.messages?.[0]?.threadId ?? null;
  }
}

export function metadataCall(id: string): ApiCall {
  return { method: 'messages.get', http: 'GET', path: `/messages/${encodeURIComponent(id)}`, query: { format: 'metadata', metadataHeaders: METADATA_HEADERS } };
}

function messageNotFound(id: string): MailopsError {
  return new MailopsError('MESSAGE_NOT_FOUND', `no message with id ${id}`, { hint: 'ids come from mailops ls or search' });
}

function folderNotFound(id: string): MailopsError {
  return new MailopsError('FOLDER_NOT_FOUND', `no Gmail label with id ${id}`, { hint: 'see mailops folders' });
}
