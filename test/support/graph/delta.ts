// Delta queries on a folder's messages (GET /me/mailFolders/{id}/messages/delta), as Graph runs
// them: a round is computed when it starts (the whole folder, or what changed since the state
// token's point) and handed out in pages (`Prefer: odata.maxpagesize`, default 10) linked by
// `@odata.nextLink` with a `$skiptoken`; its last page carries `@odata.deltaLink` with a
// `$deltatoken` for the next round. Changed and new messages come whole (or as `$select`ed),
// messages that left the folder as `@removed` rows. A message moved elsewhere shows as removed
// here and as new in its new folder (same id with immutable ids, a new one without).
//
// State tokens are opaque and kept here. `expire()` makes the ones already given out answer 410
// Gone with code SyncStateNotFound, as Graph does once it has dropped a sync state; a token this
// server never gave (or forgot) answers the same.
import { randomBytes } from 'node:crypto';
import { badRequest, syncStateNotFound } from './errors.js';
import { Mailbox, type StoredMessage } from './mailbox.js';
import { applySelect, matches, type Filter } from './query.js';
import { messageJson, propertyOf, removedRow, withExtended, type Collection, type GraphMessage, type RemovedRow, type RenderOptions } from './shapes.js';

export interface DeltaSpec {
  folderId: string;
  select: string[] | null;
  /** `$expand=singleValueExtendedProperties(...)`, as the list takes it. */
  expand?: { extendedIds: string[] | null } | undefined;
  /** Delta takes a $filter on receivedDateTime only. */
  filter: Filter | null;
  render: RenderOptions;
}

type Row = GraphMessage | RemovedRow;

interface Round {
  email: string;
  spec: DeltaSpec;
  rows: Row[];
  endSeq: number;
  epochs: [number, number];
}

interface SyncState {
  email: string;
  spec: DeltaSpec;
  seq: number;
  epochs: [number, number];
}

export const DEFAULT_PAGE = 10;

export class DeltaStore {
  private readonly rounds = new Map<string, { round: Round; offset: number }>();
  private readonly states = new Map<string, SyncState>();
  private readonly epochs = new Map<string, number>();

  /** Makes every state token of the mailbox (or of one folder) given so far answer 410. */
  expire(email: string, folderId?: string): void {
    const key = folderId ? `${email}\n${folderId}` : email;
    this.epochs.set(key, (this.epochs.get(key) ?? 0) + 1);
  }

  private epochsOf(email: string, folderId: string): [number, number] {
    return [this.epochs.get(email) ?? 0, this.epochs.get(`${email}\n${folderId}`) ?? 0];
  }

  private current(email: string, folderId: string, epochs: [number, number]): boolean {
    const now = this.epochsOf(email, folderId);
    return now[0] === epochs[0] && now[1] === epochs[1];
  }

  /** The first page of a round from scratch (no token): the folder's messages. */
  start(mailbox: Mailbox, spec: DeltaSpec, link: (token: string, kind: 'skip' | 'delta') => string, pageSize: number): Collection<Row> {
    const rows = this.sorted(mailbox.inFolder(spec.folderId).filter((m) => this.wanted(m, spec))).map((m) => this.row(m, spec));
    return this.page({ email: mailbox.email, spec, rows, endSeq: mailbox.seq, epochs: this.epochsOf(mailbox.email, spec.folderId) }, 0, link, pageSize);
  }

  /** Follows a nextLink ($skiptoken) or a deltaLink ($deltatoken). */
  resume(mailbox: Mailbox, token: { skip?: string; delta?: string }, link: (token: string, kind: 'skip' | 'delta') => string, pageSize: number | null): Collection<Row> {
    if (token.skip !== undefined) {
      const at = this.rounds.get(token.skip);
      if (!at || at.round.email !== mailbox.email || !this.current(mailbox.email, at.round.spec.folderId, at.round.epochs)) throw syncStateNotFound();
      return this.page(at.round, at.offset, link, pageSize ?? DEFAULT_PAGE);
    }
    const state = this.states.get(token.delta ?? '');
    if (!state || state.email !== mailbox.email || !this.current(mailbox.email, state.spec.folderId, state.epochs)) throw syncStateNotFound();
    const { spec } = state;
    if (!mailbox.folders.has(spec.folderId)) throw syncStateNotFound();
    const inFolder = mailbox.inFolder(spec.folderId);
    const present = new Map(inFolder.map((m) => [m.immutableId, m]));
    const changed: { seq: number; row: Row }[] = inFolder.filter((m) => m.seq > state.seq && this.wanted(m, spec)).map((m) => ({ seq: m.seq, row: this.row(m, spec) }));
    const removedIds = new Set<string>();
    for (const r of mailbox.removals) {
      if (r.folderId !== spec.folderId || r.seq <= state.seq) continue;
      const now = present.get(r.immutableId);
      // Back in the folder: with immutable ids it is the same item (a change row covers it);
      // with regular ids the id the client knows is gone, and the new one arrives as new.
      const id = spec.render.immutable ? r.immutableId : r.regularId;
      if (now && (spec.render.immutable || now.regularId === r.regularId)) continue;
      if (removedIds.has(id)) continue;
      removedIds.add(id);
      changed.push({ seq: r.seq, row: removedRow(id) });
    }
    changed.sort((a, b) => a.seq - b.seq);
    return this.page({ email: mailbox.email, spec, rows: changed.map((c) => c.row), endSeq: mailbox.seq, epochs: state.epochs }, 0, link, pageSize ?? DEFAULT_PAGE);
  }

  private wanted(m: StoredMessage, spec: DeltaSpec): boolean {
    return !spec.filter || matches(spec.filter, (path) => propertyOf(m, path, spec.render));
  }

  private sorted(messages: StoredMessage[]): StoredMessage[] {
    return [...messages].sort((a, b) => b.receivedDateTime.localeCompare(a.receivedDateTime) || b.seq - a.seq);
  }

  private row(m: StoredMessage, spec: DeltaSpec): GraphMessage {
    return withExtended(applySelect(messageJson(m, spec.render), spec.select), m, spec.expand);
  }

  private page(round: Round, offset: number, link: (token: string, kind: 'skip' | 'delta') => string, pageSize: number): Collection<Row> {
    if (!Number.isInteger(pageSize) || pageSize < 1) throw badRequest('odata.maxpagesize must be a positive integer.');
    const value = round.rows.slice(offset, offset + pageSize);
    const next = offset + value.length;
    const token = randomBytes(24).toString('base64url');
    if (next < round.rows.length) {
      this.rounds.set(token, { round, offset: next });
      return { value, '@odata.nextLink': link(token, 'skip') };
    }
    this.states.set(token, { email: round.email, spec: round.spec, seq: round.endSeq, epochs: round.epochs });
    return { value, '@odata.deltaLink': link(token, 'delta') };
  }
}
