// Just enough MIME for the Gmail fake: the raw bytes are the message (format=raw returns them
// untouched), and this module derives what Gmail derives from them: headers, the part tree of
// format=full (bodies decoded, attachments by id), the snippet, whether it has an attachment.
// It is deliberately independent of src/ (mailparser there), so a parsing bug in the product
// cannot hide behind the same bug in its test server.
import type { gmail_v1 } from '@googleapis/gmail';

export interface Header {
  name: string;
  value: string;
}

export interface MimeNode {
  headers: Header[];
  contentType: string;
  params: Record<string, string>;
  /** Decoded content (transfer encoding undone) of a leaf; empty for a multipart. */
  body: Buffer;
  filename: string;
  attachment: boolean;
  children: MimeNode[];
}

/** Splits header block and body at the first empty line (CRLF or bare LF, as found in the wild). */
export function splitHead(bytes: Buffer): { head: string; body: Buffer } {
  const text = bytes.toString('latin1');
  const m = /\r?\n\r?\n/.exec(text);
  if (!m) return { head: text, body: Buffer.alloc(0) };
  return { head: text.slice(0, m.index), body: bytes.subarray(m.index + m[0].length) };
}

export function parseHeaders(head: string): Header[] {
  const headers: Header[] = [];
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && headers.length) headers[headers.length - 1]!.value += ' ' + line.trim();
    else {
      const i = line.indexOf(':');
      if (i > 0) headers.push({ name: line.slice(0, i).trim(), value: line.slice(i + 1).trim() });
    }
  }
  // Header bytes are kept as latin1 above so the split is byte-exact; UTF-8 headers decode here.
  return headers.map((h) => ({ name: h.name, value: Buffer.from(h.value, 'latin1').toString('utf8') }));
}

export function header(headers: Header[], name: string): string | undefined {
  return headers.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value;
}

function parseParams(value: string): { value: string; params: Record<string, string> } {
  const [first = '', ...rest] = value.split(';');
  const params: Record<string, string> = {};
  for (const p of rest) {
    const i = p.indexOf('=');
    if (i > 0) params[p.slice(0, i).trim().toLowerCase()] = p.slice(i + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return { value: first.trim().toLowerCase(), params };
}

function decodeBody(body: Buffer, encoding: string): Buffer {
  switch (encoding.toLowerCase()) {
    case 'base64':
      return Buffer.from(body.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
    case 'quoted-printable': {
      const text = body.toString('latin1').replace(/=\r?\n/g, '');
      return Buffer.from(text.replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
    }
    default:
      return body;
  }
}

export function parseMime(bytes: Buffer): MimeNode {
  const { head, body } = splitHead(bytes);
  const headers = parseHeaders(head);
  const type = parseParams(header(headers, 'content-type') ?? 'text/plain');
  const disposition = parseParams(header(headers, 'content-disposition') ?? '');
  const filename = disposition.params.filename ?? type.params.name ?? '';
  const node: MimeNode = {
    headers,
    contentType: type.value || 'text/plain',
    params: type.params,
    body: Buffer.alloc(0),
    filename,
    attachment: disposition.value === 'attachment' || filename !== '',
    children: [],
  };
  const boundary = type.params.boundary;
  if (node.contentType.startsWith('multipart/') && boundary) {
    node.children = splitMultipart(body, boundary).map(parseMime);
  } else {
    node.body = decodeBody(body, header(headers, 'content-transfer-encoding') ?? '7bit');
  }
  return node;
}

/** The parts between `--boundary` lines, without the CRLF that belongs to the delimiter. */
export function splitMultipart(body: Buffer, boundary: string): Buffer[] {
  const text = body.toString('latin1');
  const delimiter = new RegExp(`(?:^|\\r?\\n)--${boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(--)?[ \\t]*(?:\\r?\\n|$)`, 'g');
  const parts: Buffer[] = [];
  let start = -1;
  for (let m = delimiter.exec(text); m; m = delimiter.exec(text)) {
    if (start >= 0) parts.push(body.subarray(start, m.index));
    if (m[1]) return parts;
    start = m.index + m[0].length;
  }
  return parts;
}

export function hasAttachment(node: MimeNode): boolean {
  return node.children.length ? node.children.some(hasAttachment) : node.attachment;
}

/** Text of the first text/plain leaf (else text/html stripped of tags), for the snippet and word search. */
export function bodyText(node: MimeNode): string {
  const leaves: MimeNode[] = [];
  const walk = (n: MimeNode) => (n.children.length ? n.children.forEach(walk) : leaves.push(n));
  walk(node);
  const plain = leaves.find((l) => l.contentType === 'text/plain' && !l.attachment);
  if (plain) return plain.body.toString('utf8');
  const html = leaves.find((l) => l.contentType === 'text/html' && !l.attachment);
  return html ? html.body.toString('utf8').replace(/<[^>]*>/g, ' ') : '';
}

/** Gmail's snippet is HTML-escaped (`I&#39;m`), which clients must undo before showing it. */
export function snippet(node: MimeNode): string {
  const text = bodyText(node).replace(/\s+/g, ' ').trim().slice(0, 200);
  return text.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": '#39' }[c]};`);
}

/**
 * Gmail's format=full payload: partIds '' for the root and '0', '0.1'… below it, leaf bodies as
 * base64url of the decoded content, and attachments by id instead of inline data (they are then
 * fetched with messages.attachments.get, which `attachmentId` names).
 */
export function toPayload(node: MimeNode, partId: string, attachmentId: (partId: string) => string): gmail_v1.Schema$MessagePart {
  const part: gmail_v1.Schema$MessagePart = {
    partId,
    mimeType: node.contentType,
    filename: node.filename,
    headers: node.headers.map((h) => ({ name: h.name, value: h.value })),
  };
  if (node.children.length) {
    part.body = { size: 0 };
    part.parts = node.children.map((c, i) => toPayload(c, partId === '' ? String(i) : `${partId}.${i}`, attachmentId));
  } else if (node.attachment) {
    part.body = { attachmentId: attachmentId(partId), size: node.body.length };
  } else {
    part.body = { size: node.body.length, data: node.body.toString('base64url') };
  }
  return part;
}

/** The leaf a `toPayload` partId names. */
export function partById(node: MimeNode, partId: string): MimeNode | undefined {
  if (partId === '') return node;
  let current: MimeNode | undefined = node;
  for (const i of partId.split('.')) current = current?.children[Number(i)];
  return current;
}

/** Addresses in an address header: the bare `local@domain` forms, lower-cased. */
export function addresses(value: string | undefined): string[] {
  return [...(value ?? '').matchAll(/[^\s<>,;"]+@[^\s<>,;"]+/g)].map((m) => m[0].toLowerCase());
}
