/**
 * Raw RFC 5322 bytes to the decoded message `read` shows. mailparser does the MIME
 * work (transfer encodings, charsets, RFC 2047/2231, nested multiparts); the
 * top-level headers are read from the raw bytes by ./headers.ts so that they keep
 * their order and survive input mailparser mangles. Parsing never throws: a
 * message mailparser cannot take apart is shown as its raw text.
 */

import { simpleParser } from './mailparser.js';
import type { AddressObject, Attachment, EmailAddress, ParsedMail, SimpleParserOptions } from 'mailparser';
import { createRequire } from 'node:module';
import { libmime } from './libmime.js';
import type { Address, AttachmentInfo } from '../domain/types.js';
import { decodeCharset } from './charset.js';
import { isMediaType } from './content-type.js';
import { parseMailDate } from './date.js';
import { decodeLooseText, headerValue, readHeaderBlock, type HeaderLine } from './headers.js';

export type { HeaderLine } from './headers.js';

export interface ParsedAttachment extends AttachmentInfo {
  /** Decoded bytes, for --save-attachments. */
  content: Buffer;
  /** An image the HTML body shows (cid: part of multipart/related), rather than a file the sender attached. */
  inline: boolean;
}

export interface ParsedMessage {
  /** With angle brackets, as written: `<id@host>`. */
  messageId: string | null;
  subject: string;
  from: Address | null;
  to: Address[];
  cc: Address[];
  bcc: Address[];
  replyTo: Address[];
  /** Null when the message has no Date or one that cannot be read (never "now"). */
  date: Date | null;
  inReplyTo: string | null;
  references: string[];
  /** The text/plain part(s); when there is none, the HTML rendered as text. */
  bodyText: string;
  /** The HTML part(s) as sent (cid: links kept), or null. */
  bodyHtml: string | null;
  attachments: ParsedAttachment[];
  /** Top-level header fields in order, decoded, for --headers. */
  headers: HeaderLine[];
  /** True when at least one attachment is not an inline body image. */
  hasAttachments: boolean;
}

const PARSER_OPTIONS = {
  // Keep the HTML as sent: data: URIs for every inline image would bloat --html and JSON output.
  keepCidLinks: true,
  // Hand every message/rfc822 part over as an attachment: mailparser would otherwise merge an
  // inline forwarded message's text into the outer body. (A mailsplit option mailparser passes on.)
  ignoreEmbedded: true,
  // No links made from the URLs of text parts: mailparser makes them only for its HTML rendering of
  // a text part (textAsHtml, which we do not use, and the text parts of a mixed message that has an
  // HTML part too, put into its HTML as paragraphs: the URLs stay as text there). Linking costs a
  // pass of linkify-it over every text part (10-25 ms), and loading linkify-it about 20 ms more
  // (src/mime/mailparser.ts defers it, and it is never loaded).
  skipTextLinks: true,
} as SimpleParserOptions;

// Loaded and built on the first HTML body: html-to-text takes ~30 ms to load and ~7 ms to compile
// its selectors, which a `read` of a plain message need not pay. Required, not imported: the
// package ships an ESM and a CommonJS build, and mailparser already loads the CommonJS one (an
// import would load the whole HTML parser a second time).
type HtmlToText = typeof import('html-to-text');
let compiled: ReturnType<HtmlToText['compile']> | null = null;
function htmlToText(html: string): string {
  compiled ??= compileHtmlToText();
  return compiled(html);
}

const compileHtmlToText = () => (createRequire(import.meta.url)('html-to-text') as HtmlToText).compile({
  // Lines are left for the terminal (or the script) to wrap.
  wordwrap: false,
  formatters: {
    // A table cell followed by a blank, so "Widget | $5.00" does not read "Widget$5.00".
    cell: (elem, walk, builder) => {
      walk(elem.children, builder);
      builder.addInline(' ');
    },
  },
  selectors: [
    // One table row a line: receipts stay legible, and layout tables (most HTML mail) collapse to their text.
    { selector: 'tr', format: 'block', options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } },
    { selector: 'td', format: 'cell' },
    { selector: 'th', format: 'cell' },
    // "text [url]", and just the url when the text is the url.
    { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
    // cid: and data: sources, tracking pixels and layout images are noise in text.
    { selector: 'img', format: 'skip' },
    ...(['h1', 'h2', 'h3', 'h4', 'h5', 'h6'] as const).map((selector) => ({ selector, options: { uppercase: false } })),
  ],
});

export async function parseMessage(raw: Buffer): Promise<ParsedMessage> {
  const { headers, bodyOffset } = readHeaderBlock(raw);
  const fromHeaders = fieldsFromHeaders(headers);
  let mail: ParsedMail;
  try {
    mail = await simpleParser(raw, PARSER_OPTIONS);
  } catch {
    return rawFallback(raw, bodyOffset, headers, fromHeaders);
  }
  // mailparser swallows some splitter errors (a header block over 1 MB) and resolves with nothing parsed.
  if (mail.headers === undefined) return rawFallback(raw, bodyOffset, headers, fromHeaders);

  const bodyHtml = typeof mail.html === 'string' ? mail.html : null;
  const { texts, files } = splitMalformedText(mail.attachments);
  const attachments = files.map(toParsedAttachment);
  return {
    ...fromHeaders,
    from: flattenAddresses(mail.from)[0] ?? null,
    to: flattenAddresses(mail.to),
    cc: flattenAddresses(mail.cc),
    bcc: flattenAddresses(mail.bcc),
    replyTo: flattenAddresses(mail.replyTo),
    bodyText: [chooseBodyText(mail, bodyHtml), ...texts].filter((t) => t !== '').join('\n'),
    bodyHtml,
    attachments,
    headers,
    hasAttachments: attachments.some((a) => !a.inline),
  };
}

type HeaderFields = Pick<ParsedMessage, 'messageId' | 'subject' | 'date' | 'inReplyTo' | 'references'>;

/** Fields read from our own header list, which decodes 8-bit headers and bad dates better than mailparser. */
function fieldsFromHeaders(headers: readonly HeaderLine[]): HeaderFields {
  const messageId = headerValue(headers, 'message-id');
  const inReplyTo = headerValue(headers, 'in-reply-to');
  return {
    messageId: messageId === null ? null : (firstMessageId(messageId) ?? (messageId || null)),
    subject: headerValue(headers, 'subject') ?? '',
    date: parseMailDate(headerValue(headers, 'date')),
    inReplyTo: inReplyTo === null ? null : (firstMessageId(inReplyTo) ?? (inReplyTo || null)),
    references: headers
      .filter((h) => h.name.toLowerCase() === 'references')
      .flatMap((h) => h.value.match(MESSAGE_ID) ?? []),
  };
}

// msg-id tokens; comments and commas around them (common in References) are dropped.
const MESSAGE_ID = /<[^<>\s]+>/g;

function firstMessageId(value: string): string | null {
  return value.match(MESSAGE_ID)?.[0] ?? null;
}

function rawFallback(raw: Buffer, bodyOffset: number, headers: HeaderLine[], fields: HeaderFields): ParsedMessage {
  return {
    ...fields,
    // The renderer shows the raw header text where no address could be parsed.
    from: null,
    to: [],
    cc: [],
    bcc: [],
    replyTo: [],
    bodyText: decodeLooseText(raw.subarray(bodyOffset)),
    bodyHtml: null,
    attachments: [],
    headers,
    hasAttachments: false,
  };
}

function chooseBodyText(mail: ParsedMail, html: string | null): string {
  const text = mail.text ?? '';
  // A text/html root has no text part: mailparser's own conversion (wrapped, uppercased headings) is replaced by ours.
  const rootIsHtml = rootContentType(mail) === 'text/html';
  if (html !== null && (rootIsHtml || text.trim() === '')) return htmlToText(html).trim();
  return text;
}

function rootContentType(mail: ParsedMail): string {
  const value = mail.headers.get('content-type');
  if (value && typeof value === 'object' && 'value' in value && typeof value.value === 'string') {
    return value.value.toLowerCase();
  }
  return 'text/plain';
}

/**
 * RFC 2045 section 5.2: a Content-Type that cannot be read means text/plain. Old mailers write
 * `Content-Type: text; charset=us-ascii`, which mailparser keeps as a type of its own and hands
 * over as an attachment, so `read` showed `attachment-1.bin` and no body. Such a part is text:
 * shown as body text (in its charset), or kept as a text/plain file where it is marked as one.
 */
function splitMalformedText(parts: Attachment[]): { texts: string[]; files: Attachment[] } {
  const texts: string[] = [];
  const files: Attachment[] = [];
  for (const part of parts) {
    if (isMediaType(part.contentType)) {
      files.push(part);
      continue;
    }
    const content = Buffer.isBuffer(part.content) ? part.content : Buffer.alloc(0);
    if (part.contentDisposition === 'attachment' && part.filename) {
      files.push({ ...part, contentType: 'text/plain' });
      continue;
    }
    const type = part.headers.get('content-type');
    const charset = type && typeof type === 'object' && 'params' in type ? (type.params as Record<string, string>).charset : undefined;
    texts.push(decodeCharset(content, charset));
  }
  return { texts, files };
}

function toParsedAttachment(attachment: Attachment, index: number): ParsedAttachment {
  const content = Buffer.isBuffer(attachment.content) ? attachment.content : Buffer.alloc(0);
  return {
    filename: attachmentName(attachment, content, index),
    contentType: attachment.contentType,
    size: content.length,
    content,
    inline: attachment.related === true,
  };
}

function attachmentName(attachment: Attachment, content: Buffer, index: number): string {
  const given = attachment.filename?.trim();
  if (given) return given;
  if (attachment.contentType === 'message/rfc822') {
    const subject = headerValue(readHeaderBlock(content).headers, 'subject');
    return subject ? `${subject}.eml` : 'message.eml';
  }
  return `attachment-${index + 1}.${libmime.detectExtension(attachment.contentType)}`;
}

/** Group members are listed like any other recipient; an empty group (undisclosed-recipients:;) adds nothing. */
function flattenAddresses(value: AddressObject | AddressObject[] | undefined): Address[] {
  const out: Address[] = [];
  const visit = (entries: readonly EmailAddress[]): void => {
    for (const entry of entries) {
      if (entry.group) visit(entry.group);
      else if (entry.address || entry.name) out.push({ name: entry.name ?? '', address: entry.address ?? '' });
    }
  };
  for (const object of [value ?? []].flat()) visit(object.value ?? []);
  return out;
}
