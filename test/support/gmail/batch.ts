// Google's batch format (https://developers.google.com/gmail/api/guides/batch): a multipart/mixed
// body whose parts are `Content-Type: application/http`, each holding one HTTP request; the answer
// is multipart/mixed with one `application/http` part per request, in order, its Content-ID the
// request's prefixed with `response-`.
import { randomBytes } from 'node:crypto';
import { badRequest } from './errors.js';
import { parseHeaders, splitHead, splitMultipart, type Header } from './mime.js';

export interface InnerRequest {
  contentId: string | null;
  method: string;
  /** Path and query, as written on the request line. */
  target: string;
  headers: Record<string, string>;
  body: Buffer;
}

export interface InnerResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export function boundaryOf(contentType: string | undefined): string | null {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  return m ? (m[1] ?? m[2]!) : null;
}

function headerMap(headers: Header[]): Record<string, string> {
  return Object.fromEntries(headers.map((h) => [h.name.toLowerCase(), h.value]));
}

export function parseBatch(body: Buffer, contentType: string | undefined): InnerRequest[] {
  const boundary = boundaryOf(contentType);
  if (!contentType?.toLowerCase().startsWith('multipart/mixed') || !boundary) throw badRequest('Batch requests need Content-Type multipart/mixed with a boundary');
  return splitMultipart(body, boundary).map((part) => {
    const outer = splitHead(part);
    const outerHeaders = headerMap(parseHeaders(outer.head));
    if (!(outerHeaders['content-type'] ?? '').toLowerCase().startsWith('application/http')) throw badRequest('Each batch part must be Content-Type application/http');
    const inner = splitHead(outer.body);
    const [requestLine = '', ...headerLines] = inner.head.split(/\r?\n/);
    const m = /^([A-Z]+) (\S+)(?: HTTP\/1\.[01])?$/.exec(requestLine.trim());
    if (!m) throw badRequest(`Bad request line in batch part: ${requestLine}`);
    return {
      contentId: outerHeaders['content-id']?.replace(/^<(.*)>$/, '$1') ?? null,
      method: m[1]!,
      target: m[2]!,
      headers: headerMap(parseHeaders(headerLines.join('\r\n'))),
      body: inner.body,
    };
  });
}

const REASONS: Record<number, string> = { 200: 'OK', 204: 'No Content', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable' };

export function renderBatch(parts: { contentId: string | null; response: InnerResponse }[]): { contentType: string; body: Buffer } {
  const boundary = `batch_${randomBytes(12).toString('base64url')}`;
  const chunks: Buffer[] = [];
  parts.forEach(({ contentId, response }) => {
    const head = [`--${boundary}`, 'Content-Type: application/http'];
    if (contentId !== null) head.push(`Content-ID: <response-${contentId}>`);
    const lines = [`HTTP/1.1 ${response.status} ${REASONS[response.status] ?? ''}`.trimEnd()];
    for (const [k, v] of Object.entries(response.headers)) lines.push(`${k}: ${v}`);
    lines.push(`Content-Length: ${response.body.length}`);
    chunks.push(Buffer.from(`${head.join('\r\n')}\r\n\r\n${lines.join('\r\n')}\r\n\r\n`, 'latin1'), response.body, Buffer.from('\r\n'));
  });
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { contentType: `multipart/mixed; boundary=${boundary}`, body: Buffer.concat(chunks) };
}
