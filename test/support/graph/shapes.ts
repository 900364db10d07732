// The JSON Graph answers with, built from the mailbox: message and mailFolder resources typed
// with @microsoft/microsoft-graph-types (a property Graph does not have is a type error), the
// collection envelope, and the Prefer header's parts.
import type { FileAttachment, MailFolder, MailSearchFolder, Message } from '@microsoft/microsoft-graph-types';
import { Mailbox, type StoredAttachment, type StoredFolder, type StoredMessage } from './mailbox.js';
import { preview, type MimeFacts } from './mime.js';
import type { SearchDoc, Value } from './query.js';

/** Message as Graph sends it: the resource plus its OData etag. */
export type GraphMessage = Message & { '@odata.etag'?: string; '@odata.type'?: string };
export type GraphFolder = (MailFolder | MailSearchFolder) & { '@odata.type'?: string };
/** A delta row for a message gone from the folder. */
export interface RemovedRow {
  '@odata.type': '#microsoft.graph.message';
  id: string;
  '@removed': { reason: 'deleted' | 'changed' };
}
export interface Collection<T> {
  '@odata.context'?: string;
  '@odata.count'?: number;
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
  value: T[];
}

export interface RenderOptions {
  /** `Prefer: IdType="ImmutableId"` was sent. */
  immutable: boolean;
  /** `Prefer: outlook.body-content-type="text"` was sent. */
  textBody: boolean;
}

/** The Prefer header(s) as name → value (names lower-cased, quotes removed). */
export function parsePrefer(header: string | string[] | undefined): Map<string, string> {
  const prefs = new Map<string, string>();
  const all = Array.isArray(header) ? header.join(',') : (header ?? '');
  for (const part of all.split(',')) {
    const m = /^\s*([^=\s]+)\s*(?:=\s*"?([^"]*)"?)?\s*$/.exec(part);
    if (m) prefs.set(m[1]!.toLowerCase(), m[2] ?? '');
  }
  return prefs;
}

export function renderOptions(prefer: Map<string, string>): RenderOptions {
  return { immutable: prefer.get('idtype')?.toLowerCase() === 'immutableid', textBody: prefer.get('outlook.body-content-type')?.toLowerCase() === 'text' };
}

function addressText(r: { emailAddress?: { name?: string | null; address?: string | null } | null } | null | undefined): string {
  return r?.emailAddress ? `${r.emailAddress.name ?? ''} ${r.emailAddress.address ?? ''}` : '';
}

function bodyOf(facts: MimeFacts, textBody: boolean): Message['body'] {
  if (textBody && facts.body.contentType === 'html') return { contentType: 'text', content: facts.text };
  return { contentType: facts.body.contentType, content: facts.body.content };
}

export function messageJson(m: StoredMessage, opts: RenderOptions): GraphMessage {
  const id = Mailbox.idOf(m, opts.immutable);
  const f = m.facts;
  return {
    '@odata.etag': `W/"${m.changeKey}"`,
    id,
    createdDateTime: m.createdDateTime,
    lastModifiedDateTime: m.lastModifiedDateTime,
    changeKey: m.changeKey,
    categories: [],
    receivedDateTime: m.receivedDateTime,
    sentDateTime: f.sentDateTime ?? m.receivedDateTime,
    hasAttachments: f.hasAttachments || m.attachments.some((a) => !a.isInline),
    internetMessageId: f.internetMessageId,
    subject: f.subject,
    bodyPreview: preview(f.text),
    importance: 'normal',
    parentFolderId: m.folderId,
    conversationId: m.conversationId,
    isDeliveryReceiptRequested: false,
    isReadReceiptRequested: false,
    isRead: m.isRead,
    isDraft: m.isDraft,
    webLink: `https://outlook.office365.com/owa/?ItemID=${encodeURIComponent(id)}&exvsurl=1&viewmodel=ReadMessageItem`,
    inferenceClassification: 'focused',
    body: bodyOf(f, opts.textBody),
    sender: f.sender,
    from: f.from,
    toRecipients: f.to,
    ccRecipients: f.cc,
    bccRecipients: f.bcc,
    replyTo: f.replyTo,
    flag: { flagStatus: m.flagStatus },
  };
}

/** MAPI properties the fake can give through singleValueExtendedProperties, by Graph id. */
const EXTENDED: Record<string, (m: StoredMessage) => string> = {
  // PR_MESSAGE_SIZE: Exchange's store size; here the MIME's length plus attachments added since.
  'Integer 0xe08': (m) => String(m.raw.length + m.attachments.reduce((n, a) => n + a.content.length, 0)),
};

/** The message with `$expand=singleValueExtendedProperties(...)` applied (ids as asked, lower-cased; null for all). */
export function withExtended(json: GraphMessage, m: StoredMessage, expand: { extendedIds: string[] | null } | undefined): GraphMessage {
  if (!expand) return json;
  const props = Object.entries(EXTENDED)
    .filter(([id]) => expand.extendedIds === null || expand.extendedIds.includes(id.toLowerCase()))
    .map(([id, value]) => ({ id, value: value(m) }));
  return { ...json, singleValueExtendedProperties: props };
}

export function removedRow(id: string): RemovedRow {
  return { '@odata.type': '#microsoft.graph.message', id, '@removed': { reason: 'deleted' } };
}

export function folderJson(mailbox: Mailbox, folder: StoredFolder, opts: { includeHidden: boolean }): GraphFolder {
  const counts = mailbox.counts(folder.id);
  const base: MailFolder = {
    id: folder.id,
    displayName: folder.displayName,
    parentFolderId: folder.parentId ?? mailbox.storeRootId,
    childFolderCount: mailbox.children(folder.id).filter((c) => opts.includeHidden || !c.isHidden).length,
    unreadItemCount: counts.unread,
    totalItemCount: counts.total,
    isHidden: folder.isHidden,
  };
  if (!folder.isSearchFolder) return base;
  const search: MailSearchFolder = { ...base, isSupported: true, includeNestedFolders: true, sourceFolderIds: [mailbox.wellKnown('msgfolderroot').id], filterQuery: 'isRead eq false' };
  return { '@odata.type': '#microsoft.graph.mailSearchFolder', ...search };
}

export function attachmentJson(a: StoredAttachment): FileAttachment & { '@odata.type': string } {
  return {
    '@odata.type': '#microsoft.graph.fileAttachment',
    id: a.id,
    lastModifiedDateTime: a.lastModifiedDateTime,
    name: a.name,
    contentType: a.contentType,
    size: a.content.length,
    isInline: a.isInline,
    contentId: null,
    contentLocation: null,
    contentBytes: a.content.toString('base64'),
  };
}

/** A message property for $filter and $orderby, by its Graph path. */
export function propertyOf(m: StoredMessage, path: string, opts: RenderOptions): Value {
  const f = m.facts;
  switch (path) {
    case 'id': return Mailbox.idOf(m, opts.immutable);
    case 'isRead': return m.isRead;
    case 'isDraft': return m.isDraft;
    case 'hasAttachments': return f.hasAttachments || m.attachments.some((a) => !a.isInline);
    case 'flag/flagStatus': return m.flagStatus;
    case 'receivedDateTime': return Date.parse(m.receivedDateTime);
    case 'sentDateTime': return Date.parse(f.sentDateTime ?? m.receivedDateTime);
    case 'createdDateTime': return Date.parse(m.createdDateTime);
    case 'lastModifiedDateTime': return Date.parse(m.lastModifiedDateTime);
    case 'subject': return f.subject;
    case 'internetMessageId': return f.internetMessageId;
    case 'conversationId': return m.conversationId;
    case 'parentFolderId': return m.folderId;
    case 'importance': return 'normal';
    case 'inferenceClassification': return 'focused';
    case 'from/emailAddress/address': return f.from?.emailAddress?.address ?? null;
    case 'from/emailAddress/name': return f.from?.emailAddress?.name ?? null;
    case 'sender/emailAddress/address': return f.sender?.emailAddress?.address ?? null;
    case 'sender/emailAddress/name': return f.sender?.emailAddress?.name ?? null;
    default: return null;
  }
}

export function searchDoc(m: StoredMessage): SearchDoc {
  const f = m.facts;
  const list = (rs: typeof f.to) => rs.map(addressText).join(' ').toLowerCase();
  return {
    subject: f.subject.toLowerCase(),
    body: f.text.toLowerCase(),
    from: addressText(f.from).toLowerCase(),
    to: list(f.to),
    cc: list(f.cc),
    bcc: list(f.bcc),
    attachment: [...f.attachmentNames, ...m.attachments.map((a) => a.name)].join(' ').toLowerCase(),
    hasAttachments: f.hasAttachments || m.attachments.length > 0,
  };
}
