/**
 * The IMAP/SMTP backend's commands: imapflow for the mailbox, nodemailer for
 * submission. It translates between those and the domain's types and does
 * nothing else; ids (ids.ts), envelopes (envelope.ts),
 * errors (errors.ts), the connection (session.ts), SMTP (smtp.ts) and the
 * search compiler (search.ts) live beside it. provider.ts loads this module
 * on the first command that needs it: the folder list and sync's change feed
 * run over wire/ and need none of it.
 */
import type { ImapFlow, MailboxObject } from 'imapflow';
import { MailopsError } from '../../domain/errors.js';
import type { ChangeOutcome, FetchedMessage, ListOptions, MailProvider, ProviderRuntime } from '../../domain/provider.js';
import type { QueryNode } from '../../domain/query.js';
import type {
  CheckStep,
  Envelope,
  FlagChange,
  MessageRef,
  OutgoingMessage,
  Page,
  SendReceipt,
  VerifyResult,
} from '../../domain/types.js';
import { ENVELOPE_QUERY, toEnvelope } from './envelope.js';
import { folderNotFound, imapServerText } from './errors.js';
import { keyOf, messageNotFound } from './ids.js';
import { imapFlagChange } from './flags.js';
import { compileImapSearch, explainImapSearch, explainListOrder, imapListCommand, type ImapSearchContext } from './search.js';
import { ImapSession, withMailbox } from './session.js';
import { sendSmtp, verifySmtp, type SmtpSettings } from './smtp.js';
import { compressUidSet as sequenceSet } from '../../net/imap/uid-set.js';
import { quoteMailbox } from '../../net/imap/utf7.js';
import type { ImapProviderConfig } from './provider.js';

/** Every command of MailProvider but the folder list and the change feed, which provider.ts runs over wire/. */
export type ImapCommands = Omit<MailProvider, 'kind' | 'syncChanges' | 'listFolders'>;

export function createImapCommands(config: ImapProviderConfig, runtime: ProviderRuntime): ImapCommands {
  return new ImapflowProvider(config, runtime);
}

class ImapflowProvider implements ImapCommands {
  private readonly session: ImapSession;
  private readonly smtp: SmtpSettings;

  constructor(
    private readonly config: ImapProviderConfig,
    runtime: ProviderRuntime,
  ) {
    const shared = { credentials: config.credentials, insecure: config.insecure, caFile: config.caFile, runtime };
    this.session = new ImapSession({ endpoint: config.imap, ...shared });
    this.smtp = { endpoint: config.smtp, ...shared };
  }

  verify(signal: AbortSignal): Promise<VerifyResult> {
    return this.session.run(signal, async (client) => {
      const connection = this.session.connection;
      const loggedInAt = Date.now();
      const startedAt = connection?.startedAt ?? loggedInAt;
      const milestones = connection?.log.milestones;
      const connectedAt = milestones?.tlsAt ?? milestones?.connectedAt ?? startedAt;
      const { host, port } = this.config.imap;
      const checks: CheckStep[] = [
        { step: 'connect', ok: true, ms: connectedAt - startedAt, detail: `${host}:${port}, ${milestones?.tlsVersion ?? 'no TLS'}` },
        {
          step: 'login',
          ok: true,
          ms: (milestones?.authenticatedAt ?? loggedInAt) - connectedAt,
          detail: `logged in as ${this.config.credentials.user}`,
        },
      ];
      const selectStarted = Date.now();
      const exists = await withMailbox(client, 'INBOX', { readOnly: true }, async (mailbox) => mailbox.exists);
      checks.push({ step: 'select', ok: true, ms: Date.now() - selectStarted, detail: `INBOX: ${exists} messages` });
      const noopStarted = Date.now();
      await client.noop();
      return { checks, latencyMs: Date.now() - noopStarted, capabilities: [...client.capabilities.keys()] };
    });
  }

  verifySend(signal: AbortSignal): Promise<VerifyResult> {
    return verifySmtp(this.smtp, signal);
  }

  list(folder: string, options: ListOptions, signal: AbortSignal): Promise<Page<Envelope>> {
    const { limit, page } = options.page;
    return this.session.run(signal, (client) =>
      withMailbox(client, folder, { readOnly: true }, async (mailbox) => {
        const uids = await this.newestFirst(client, mailbox, options.query);
        const start = (page - 1) * limit;
        const slice = uids.slice(start, start + limit);
        const items: Envelope[] = [];
        if (slice.length > 0) {
          // fetchAll collects everything before returning: no command may run inside a fetch loop.
          const messages = await client.fetchAll(sequenceSet(slice), ENVELOPE_QUERY, { uid: true });
          const byUid = new Map(messages.map((message) => [message.uid, message]));
          const uidValidity = String(mailbox.uidValidity);
          for (const uid of slice) {
            const message = byUid.get(uid);
            // Absent when expunged between SEARCH and FETCH.
            if (message) items.push(toEnvelope(message, mailbox.path, uidValidity));
          }
        }
        const hasNext = start + slice.length < uids.length;
        // IMAP has random access by UID: a page number is all the cursor a caller needs.
        return { items, total: uids.length, totalIsEstimate: false, page, pageSize: limit, hasNext, nextCursor: hasNext ? String(page + 1) : null };
      }),
    );
  }

  fetchMessage(ref: MessageRef, options: { peek: boolean }, signal: AbortSignal): Promise<FetchedMessage> {
    const { folder, uid } = keyOf(ref);
    return this.session.run(signal, (client) =>
      withMailbox(client, folder, { readOnly: options.peek }, async (mailbox) => {
        checkUidValidity(ref, mailbox);
        // imapflow always fetches with BODY.PEEK[]; reading without peek sets \Seen explicitly afterwards.
        const message = await client.fetchOne(String(uid), { ...ENVELOPE_QUERY, source: true }, { uid: true });
        if (!message || !message.source) throw messageNotFound(ref.id);
        const envelope = toEnvelope(message, mailbox.path, String(mailbox.uidValidity));
        if (!options.peek && !envelope.flags.seen) {
          await this.checked('marking the message read', () => client.messageFlagsAdd(String(uid), ['\\Seen'], { uid: true }));
          envelope.flags = { ...envelope.flags, seen: true };
        }
        return { raw: message.source, envelope };
      }),
    );
  }

  setFlags(refs: MessageRef[], flagChange: FlagChange, signal: AbortSignal): Promise<ChangeOutcome> {
    const change = imapFlagChange(flagChange);
    return this.session.run(signal, (client) =>
      this.eachFolder(client, refs, async (mailbox, uids) => {
        const set = sequenceSet(uids);
        if (change.add.length > 0) {
          await this.checkedFlags(mailbox, change.add, () => client.messageFlagsAdd(set, change.add, { uid: true }));
        }
        if (change.remove.length > 0) {
          await this.checkedFlags(mailbox, change.remove, () => client.messageFlagsRemove(set, change.remove, { uid: true }));
        }
        return uids.length;
      }),
    );
  }

  move(refs: MessageRef[], to: string, signal: AbortSignal): Promise<ChangeOutcome> {
    return this.session.run(signal, async (client) => {
      const native = client.capabilities.has('MOVE');
      if (!native) requireUidExpunge(client, 'move messages');
      const destination = await this.existingFolder(client, to);
      return this.eachFolder(client, refs, async (mailbox, uids, group) => {
        // Moving into the folder a message is in leaves it there.
        if (mailbox.path === destination) return uids.length;
        const set = sequenceSet(uids);
        if (native) {
          await this.checked(`moving messages to "${destination}"`, () => client.messageMove(set, destination, { uid: true }));
        } else {
          // COPY, then \Deleted and UID EXPUNGE of exactly these UIDs (UIDPLUS, checked above):
          // a plain EXPUNGE would also remove messages someone else marked \Deleted.
          await this.checked(`copying messages to "${destination}"`, () => client.messageCopy(set, destination, { uid: true }));
          await this.expunge(client, set);
        }
        return uids.length - (await this.present(client, mailbox, group)).uids.length;
      });
    });
  }

  deleteForever(refs: MessageRef[], signal: AbortSignal): Promise<ChangeOutcome> {
    return this.session.run(signal, (client) => {
      requireUidExpunge(client, 'delete messages for good');
      return this.eachFolder(client, refs, async (mailbox, uids, group) => {
        await this.expunge(client, sequenceSet(uids));
        return uids.length - (await this.present(client, mailbox, group)).uids.length;
      });
    });
  }

  /**
   * Runs `change` in each folder the refs name, on the UIDs found there; what is not found (gone,
   * renumbered, or in a folder that no longer exists) is reported as missing, not acted on.
   */
  private async eachFolder(
    client: ImapFlow,
    refs: MessageRef[],
    change: (mailbox: MailboxObject, uids: number[], group: MessageRef[]) => Promise<number>,
  ): Promise<ChangeOutcome> {
    const outcome: ChangeOutcome = { processed: 0, missing: [] };
    for (const [folder, group] of groupByFolder(refs)) {
      try {
        outcome.processed += await withMailbox(client, folder, { readOnly: false }, async (mailbox) => {
          const { uids, missing } = await this.present(client, mailbox, group);
          outcome.missing.push(...missing);
          return uids.length === 0 ? 0 : change(mailbox, uids, group);
        });
      } catch (error) {
        if ((error as { code?: string }).code !== 'FOLDER_NOT_FOUND') throw error;
        outcome.missing.push(...group);
      }
    }
    return outcome;
  }

  append(folder: string, raw: Buffer, flags: FlagChange, signal: AbortSignal): Promise<void> {
    return this.session.run(signal, async (client) => {
      try {
        await client.append(folder, raw, imapFlagChange(flags).add);
      } catch (err) {
        if ((err as { serverResponseCode?: string }).serverResponseCode === 'TRYCREATE') throw folderNotFound(folder);
        throw err;
      }
    });
  }

  /** Logs in first: what is sent depends on the server's capabilities (SORT, WITHIN). */
  explain(query: QueryNode | null, folder: string, signal: AbortSignal): Promise<string> {
    return this.session.run(signal, async (client) =>
      [`EXAMINE ${quoteMailbox(folder)}`, explainImapSearch(query, searchContext(client)), explainListOrder(searchContext(client))].join('\n'),
    );
  }

  send(message: OutgoingMessage, signal: AbortSignal): Promise<SendReceipt> {
    return sendSmtp(this.smtp, message, signal);
  }

  close(): Promise<void> {
    return this.session.close();
  }

  /**
   * imapflow reports most failed commands as `false` and logs the reason;
   * this turns that back into an error carrying the server's words.
   */
  private async checked<T>(what: string, command: () => Promise<T | false>): Promise<T> {
    const log = this.session.connection?.log;
    if (log) log.lastCommandError = null;
    const result = await command();
    if (result !== false) return result;
    throw commandFailed(what, log?.lastCommandError);
  }

  /** A flag change also comes back `false`, without sending anything, when the folder does not accept the flag. */
  private async checkedFlags(mailbox: MailboxObject, flags: string[], command: () => Promise<boolean>): Promise<void> {
    const log = this.session.connection?.log;
    if (log) log.lastCommandError = null;
    if (await command()) return;
    if (log?.lastCommandError) throw commandFailed('changing flags', log.lastCommandError);
    throw new MailopsError('UNSUPPORTED', `folder "${mailbox.path}" does not accept the flag${flags.length > 1 ? 's' : ''} ${flags.join(' ')}`, {
      hint: `the flags it accepts: ${[...(mailbox.permanentFlags ?? [])].join(' ') || 'none'}`,
    });
  }

  /**
   * The UIDs of `refs` that exist in the selected folder, and the refs that do not: expunged, or
   * made under another UIDVALIDITY (the folder was renumbered, so the UID names another message).
   */
  private async present(client: ImapFlow, mailbox: MailboxObject, refs: MessageRef[]): Promise<{ uids: number[]; missing: MessageRef[] }> {
    const current = String(mailbox.uidValidity);
    const live = refs.filter((ref) => [null, current].includes(keyOf(ref).uidValidity));
    const stale = refs.filter((ref) => !live.includes(ref));
    if (live.length === 0) return { uids: [], missing: stale };
    const wanted = sequenceSet(live.map((ref) => keyOf(ref).uid));
    const found = new Set(await this.checked(`looking up messages in "${mailbox.path}"`, () => client.search({ uid: wanted }, { uid: true })));
    return { uids: [...found], missing: [...stale, ...live.filter((ref) => !found.has(keyOf(ref).uid))] };
  }

  /**
   * The folder's matching UIDs, newest first by arrival date: UID SORT (ARRIVAL) reversed where the
   * server has SORT; else UIDs descending, which is arrival order only while nothing was added out
   * of date order (`search --explain` says which). Each page slices this same list, so paging is stable.
   * Ties (the same second) list the last added first either way.
   */
  private async newestFirst(client: ImapFlow, mailbox: MailboxObject, query: QueryNode | null): Promise<number[]> {
    const context = searchContext(client);
    const { command, attributes } = imapListCommand(query, context);
    if (command === 'UID SEARCH') {
      const criteria = compileImapSearch(query, context);
      const found = await this.checked(`searching "${mailbox.path}"`, () => client.search(criteria, { uid: true }));
      return [...found].sort((a, b) => b - a);
    }
    const uids: number[] = [];
    // imapflow has no SORT command; exec() is what its own commands use, with our untagged handler.
    const exec = (client as unknown as ImapflowExec).exec.bind(client);
    try {
      const response = await exec(command, attributes, {
        untagged: {
          SORT: async (untagged) => {
            for (const attribute of untagged.attributes ?? []) {
              const uid = Number(attribute.value);
              if (Number.isInteger(uid) && uid > 0) uids.push(uid);
            }
          },
        },
      });
      response.next();
      uids.reverse();
    } catch (error) {
      // The server refused the command (NO, BAD): say so with its words. A dropped connection is
      // mapped by the session like any other.
      if ((error as { responseStatus?: string }).responseStatus) throw commandFailed(`sorting "${mailbox.path}"`, error);
      throw error;
    }
    return uids;
  }

  /** +FLAGS \Deleted and UID EXPUNGE of exactly `set`. */
  private async expunge(client: ImapFlow, set: string): Promise<void> {
    await this.checked('marking messages deleted', () => client.messageFlagsAdd(set, ['\\Deleted'], { uid: true }));
    await this.checked('expunging messages', () => client.messageDelete(set, { uid: true }));
  }

  /** The folder's path as the server spells it (INBOX in any case is INBOX); FOLDER_NOT_FOUND when it is missing. */
  private async existingFolder(client: ImapFlow, path: string): Promise<string> {
    try {
      const status = await this.checked(`opening folder "${path}"`, () => client.status(path, { messages: true }));
      return status.path;
    } catch (err) {
      if ((err as { code?: string }).code === 'NotFound') throw folderNotFound(path);
      throw err;
    }
  }
}

/** The part of imapflow's connection its commands use to send one (not in its typings). */
interface ImapflowExec {
  exec(
    command: string,
    attributes: unknown[],
    options: { untagged: Record<string, (untagged: { attributes?: Array<{ value?: unknown }> }) => Promise<void>> },
  ): Promise<{ next(): void }>;
}

function commandFailed(what: string, cause: unknown): MailopsError {
  const said = cause ? imapServerText(cause) : '';
  return new MailopsError('FAILED', `${what} failed${said ? `: ${said}` : ''}`, {
    hint: 'run the command again with --trace to see the conversation',
    cause,
  });
}

function searchContext(client: ImapFlow): ImapSearchContext {
  // Arrays, not the maps' iterators: the context is read more than once (SORT, then the search keys).
  return { capabilities: [...client.capabilities.keys()], enabled: [...client.enabled] };
}

/** Without UIDPLUS only a plain EXPUNGE exists, which would also remove messages we were not asked to touch. */
function requireUidExpunge(client: ImapFlow, action: string): void {
  if (!client.capabilities.has('UIDPLUS')) {
    throw new MailopsError('UNSUPPORTED', `this IMAP server cannot ${action} safely: it lacks UIDPLUS (UID EXPUNGE)`, {
      hint: 'a plain EXPUNGE would also remove other messages marked deleted; use another mail client for this server',
    });
  }
}

function checkUidValidity(ref: MessageRef, mailbox: MailboxObject): void {
  const { uidValidity } = keyOf(ref);
  if (uidValidity !== null && uidValidity !== String(mailbox.uidValidity)) {
    throw new MailopsError('MESSAGE_NOT_FOUND', `message id ${ref.id} is stale: the server renumbered folder "${mailbox.path}" (UIDVALIDITY changed)`, {
      hint: 'get current ids with mailops ls or search',
    });
  }
}

function groupByFolder(refs: MessageRef[]): Map<string, MessageRef[]> {
  const groups = new Map<string, MessageRef[]>();
  for (const ref of refs) {
    // An id names its own folder; a bare UID the one given with --folder.
    const { folder } = keyOf(ref);
    const group = groups.get(folder);
    if (group) group.push(ref);
    else groups.set(folder, [ref]);
  }
  return groups;
}

