// What Exchange derives from a message's MIME when it stores it: the envelope properties of
// Graph's message resource (subject, from, recipients, dates, internetMessageId...), the preview,
// the body Graph shows, and whether it has attachments. The raw bytes stay the message: `$value`
// returns them untouched. Parsing reuses the Gmail fake's small MIME reader (independent of src/),
// with libmime for encoded words and nodemailer's address parser.
import { createHash } from 'node:crypto';
import type { Recipient } from '@microsoft/microsoft-graph-types';
import libmime from 'libmime';
import addressparser from 'nodemailer/lib/addressparser';
import { header, parseMime, type MimeNode } from '../gmail/mime.js';

export interface MimeFacts {
  subject: string;
  from: Recipient | null;
  sender: Recipient | null;
  to: Recipient[];
  cc: Recipient[];
  bcc: Recipient[];
  replyTo: Recipient[];
  /** ISO date of the Date header, or null when it is missing or unreadable. */
  sentDateTime: string | null;
  internetMessageId: string | null;
  /** The thread root's Message-ID (first of References, else In-Reply-To, else its own). */
  threadRoot: string;
  /** Text for bodyPreview and search: the text/plain part, else the HTML one without tags. */
  text: string;
  /** The body Graph shows: HTML when the message has an HTML part, else text. */
  body: { contentType: 'html' | 'text'; content: string };
  hasAttachments: boolean;
  /** File names of the attachments, for KQL `attachment:`. */
  attachmentNames: string[];
}

function decode(value: string | undefined): string {
  if (!value) return '';
  try {
    return libmime.decodeWords(value);
  } catch {
    return value;
  }
}

/** `{emailAddress:{name,address}}` for each address of a header; Graph uses the address as the name when there is none. */
export function recipients(value: string | undefined): Recipient[] {
  if (!value) return [];
  return addressparser(value, { flatten: true })
    .filter((a) => a.address)
    .map((a) => ({ emailAddress: { name: decode(a.name) || a.address, address: a.address } }));
}

function leaves(node: MimeNode): MimeNode[] {
  return node.children.length ? node.children.flatMap(leaves) : [node];
}

function charsetText(node: MimeNode): string {
  const charset = (node.params.charset ?? 'utf-8').toLowerCase();
  return charset === 'iso-8859-1' || charset === 'latin1' || charset === 'us-ascii' ? node.body.toString('latin1') : node.body.toString('utf8');
}

export function mimeFacts(raw: Buffer): MimeFacts {
  const root = parseMime(raw);
  const h = (name: string) => header(root.headers, name);
  const parts = leaves(root);
  const plain = parts.find((p) => p.contentType === 'text/plain' && !p.attachment);
  const html = parts.find((p) => p.contentType === 'text/html' && !p.attachment);
  const htmlText = html ? charsetText(html).replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]*>/g, ' ').replace(/&nbsp;/g, ' ') : '';
  const text = plain ? charsetText(plain) : htmlText;
  const date = h('date') ? new Date(h('date')!) : null;
  const messageId = h('message-id')?.trim() || null;
  const references = (h('references') ?? '').match(/<[^>]+>/g) ?? [];
  const inReplyTo = (h('in-reply-to') ?? '').match(/<[^>]+>/)?.[0];
  const attachments = parts.filter((p) => p.attachment);
  const from = recipients(h('from'))[0] ?? null;
  return {
    subject: decode(h('subject')),
    from,
    sender: recipients(h('sender'))[0] ?? from,
    to: recipients(h('to')),
    cc: recipients(h('cc')),
    bcc: recipients(h('bcc')),
    replyTo: recipients(h('reply-to')),
    sentDateTime: date && !Number.isNaN(date.getTime()) ? isoSeconds(date) : null,
    internetMessageId: messageId,
    threadRoot: references[0] ?? inReplyTo ?? messageId ?? createHash('sha256').update(raw).digest('hex'),
    text,
    body: html ? { contentType: 'html', content: charsetText(html) } : { contentType: 'text', content: text },
    hasAttachments: attachments.some((p) => !/^inline$/i.test(header(p.headers, 'content-disposition')?.split(';')[0]?.trim() ?? '')),
    attachmentNames: attachments.map((p) => decode(p.filename)).filter(Boolean),
  };
}

/** Graph's bodyPreview: the first 255 characters of the text, whitespace collapsed. */
export function preview(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 255);
}

/** Graph's date-times: UTC, second precision, `Z`. */
export function isoSeconds(date: Date | number): string {
  return new Date(date).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A message whose MIME was built here (a draft given as JSON): headers CRLF, body as UTF-8 quoted... kept simple, 8bit. */
export function composeMime(fields: { from: string; to: string[]; cc: string[]; bcc: string[]; subject: string; body: string; html: boolean; messageId: string }): Buffer {
  const lines = [
    `From: ${fields.from}`,
    fields.to.length ? `To: ${fields.to.join(', ')}` : null,
    fields.cc.length ? `Cc: ${fields.cc.join(', ')}` : null,
    fields.bcc.length ? `Bcc: ${fields.bcc.join(', ')}` : null,
    `Subject: ${libmime.encodeWords(fields.subject, 'B', 0)}`,
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: ${fields.messageId}`,
    'MIME-Version: 1.0',
    `Content-Type: text/${fields.html ? 'html' : 'plain'}; charset=utf-8`,
    'Content-Transfer-Encoding: 8bit',
  ].filter((l): l is string => l !== null);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${fields.body}`, 'utf8');
}

/**
 * The MIME a draft is sent as once attachments were added to it through the API: the draft's
 * own MIME becomes the first part of a multipart/mixed, each attachment a base64 part after it.
 */
export function withAttachments(raw: Buffer, attachments: { name: string; contentType: string; content: Buffer }[]): Buffer {
  if (attachments.length === 0) return raw;
  const text = raw.toString('latin1');
  const split = /\r?\n\r?\n/.exec(text);
  const headEnd = split?.index ?? text.length;
  const head = text.slice(0, headEnd);
  const body = split ? text.slice(headEnd + split[0].length) : '';
  // Headers about the content move into the first part; the rest stay on the message.
  const unfolded = head.split(/\r?\n(?![ \t])/);
  const isContent = (line: string) => /^content-/i.test(line) || /^mime-version:/i.test(line);
  const boundary = `----=_fake_graph_${createHash('sha1').update(raw).digest('hex').slice(0, 16)}`;
  const out = [
    ...unfolded.filter((l) => !isContent(l)),
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    ...(unfolded.some((l) => /^content-type:/i.test(l)) ? unfolded.filter((l) => /^content-/i.test(l)) : ['Content-Type: text/plain; charset=us-ascii']),
    '',
    body,
  ];
  for (const a of attachments) {
    const name = libmime.encodeWords(a.name, 'B', 0);
    out.push(`--${boundary}`, `Content-Type: ${a.contentType}; name="${name}"`, `Content-Disposition: attachment; filename="${name}"`, 'Content-Transfer-Encoding: base64', '', (a.content.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n'));
  }
  out.push(`--${boundary}--`, '');
  return Buffer.from(out.join('\r\n'), 'latin1');
}
