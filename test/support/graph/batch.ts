// JSON batching (POST /v1.0/$batch, https://learn.microsoft.com/graph/json-batching): a JSON
// body `{requests:[{id, method, url, headers, body, dependsOn}]}` with at most 20 requests, urls
// relative to the version root; the answer `{responses:[{id, status, headers, body}]}`. A JSON
// body goes as JSON; any other body (sendMail's base64 MIME) as a string, and a non-JSON answer
// (a message's `$value`) comes back base64-encoded, as Graph does.
import { badRequest } from './errors.js';

export interface BatchRequestItem {
  id: string;
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  dependsOn?: string[];
}

export interface BatchResponseItem {
  id: string;
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export const MAX_BATCH = 20;

/** The requests of a batch body, validated as Graph does before running any of them. */
export function parseBatch(body: Buffer, max = MAX_BATCH): BatchRequestItem[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw badRequest('Invalid JSON in the batch request body.', 'BadRequest');
  }
  const requests = (parsed as { requests?: unknown }).requests;
  if (!Array.isArray(requests) || requests.length === 0) throw badRequest('Invalid batch payload format.');
  if (requests.length > max) throw badRequest(`The number of requests in a batch cannot exceed ${max}.`);
  const ids = new Set<string>();
  for (const r of requests as BatchRequestItem[]) {
    if (typeof r?.id !== 'string' || r.id === '') throw badRequest('Every request in a batch needs an id.');
    if (ids.has(r.id)) throw badRequest(`Request id '${r.id}' is used more than once in the batch.`);
    ids.add(r.id);
    if (typeof r.method !== 'string' || !/^(GET|POST|PATCH|PUT|DELETE)$/i.test(r.method)) throw badRequest(`Invalid method '${String(r.method)}' for request '${r.id}'.`);
    if (typeof r.url !== 'string' || /^[a-z]+:\/\//i.test(r.url)) throw badRequest(`Invalid request URL '${String(r.url)}': batch URLs are relative to the version root.`);
    if (r.body !== undefined && !Object.keys(r.headers ?? {}).some((h) => h.toLowerCase() === 'content-type')) {
      throw badRequest(`Write request id : ${r.id} does not contain Content-Type header or body.`);
    }
    for (const d of r.dependsOn ?? []) if (!ids.has(d)) throw badRequest(`Request '${r.id}' depends on '${d}', which does not come before it.`);
  }
  return requests as BatchRequestItem[];
}

/** An inner request's body as the bytes its own request would have carried. */
export function innerBody(item: BatchRequestItem): Buffer {
  if (item.body === undefined || item.body === null) return Buffer.alloc(0);
  return typeof item.body === 'string' ? Buffer.from(item.body, 'utf8') : Buffer.from(JSON.stringify(item.body));
}

/** An inner answer's body in the batch answer: JSON as JSON, anything else base64. */
export function outerBody(contentType: string | undefined, body: Buffer): unknown {
  if (body.length === 0) return undefined;
  if ((contentType ?? '').toLowerCase().includes('json')) return JSON.parse(body.toString('utf8'));
  return body.toString('base64');
}
