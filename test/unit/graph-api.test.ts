// The Graph client's pure parts: its errors as the contract's codes, where links may take the
// token, folder path segments, and how a large message is split for the 4 MB request limit (the
// wire format is checked against the Graph fake in the e2e tests).
import { describe, expect, it } from 'vitest';
import { GraphApi, graphError, graphRate, graphRoot } from '../../src/providers/graph/api.js';
import { escapeSegment } from '../../src/providers/graph/folders.js';
import { REQUEST_LIMIT, detachAttachments } from '../../src/providers/graph/send.js';
import { graphIds } from '../../src/providers/graph/ids.js';

const body = (code: string, message = 'x') => Buffer.from(JSON.stringify({ error: { code, message } }));

function api(env: Record<string, string> = {}): GraphApi {
  return new GraphApi({ accessToken: async () => 'token', runtime: { timeoutMs: 1000, trace: null, warn: () => {}, env } });
}

describe('Graph errors', () => {
  it('map to the contract: token 3, scope 3, not found 5 (or the caller\'s), throttling 4, too large 1', () => {
    expect(graphError(401, body('InvalidAuthenticationToken'), 'messages.list', 'work')).toMatchObject({ code: 'NEEDS_REAUTH', hint: 'run mailops connect work again' });
    expect(graphError(403, body('ErrorAccessDenied', 'Access is denied.'), 'messages.update', 'work')).toMatchObject({ code: 'INSUFFICIENT_SCOPE' });
    expect(graphError(404, body('ErrorItemNotFound'), 'messages.get')).toMatchObject({ code: 'NOT_FOUND' });
    const mine = graphError(404, body('ErrorItemNotFound'), 'messages.get', 'w', () => Object.assign(new Error('x'), { code: 'MESSAGE_NOT_FOUND' }) as never);
    expect(mine).toMatchObject({ code: 'MESSAGE_NOT_FOUND' });
    // A malformed id is Graph's 400, and still "no such message" to a user.
    expect(graphError(400, body('ErrorInvalidMailboxItemId'), 'messages.get')).toMatchObject({ code: 'NOT_FOUND' });
    expect(graphError(429, body('ApplicationThrottled'), 'messages.list')).toMatchObject({ code: 'THROTTLED' });
    expect(graphError(413, body('ErrorRequestEntityTooLarge'), 'sendMail')).toMatchObject({ code: 'SEND_FAILED' });
    expect(graphError(500, Buffer.from('<html>oops</html>'), 'messages.list')).toMatchObject({ code: 'FAILED', message: expect.stringContaining('HTTP 500') });
    expect(graphError(403, body('ErrorMailboxNotEnabledForRESTAPI'), 'messages.list')).toMatchObject({ code: 'AUTH_FAILED' });
  });
});

describe('Graph addresses', () => {
  it('MAILOPS_GRAPH_URL is a service root; /v1.0 is appended; the rate is 10,000 per 10 minutes unless MAILOPS_GRAPH_RATE says', () => {
    expect(graphRoot({})).toBe('https://graph.microsoft.com');
    expect(graphRoot({ MAILOPS_GRAPH_URL: 'https://127.0.0.1:8443/' })).toBe('https://127.0.0.1:8443');
    expect(() => graphRoot({ MAILOPS_GRAPH_URL: 'ftp://x' })).toThrow(expect.objectContaining({ code: 'INVALID_VALUE' }));
    expect(api({ MAILOPS_GRAPH_URL: 'http://127.0.0.1:9' }).base).toBe('http://127.0.0.1:9/v1.0');
    expect(graphRate({})).toEqual({ units: 10_000, windowMs: 600_000 });
    expect(graphRate({ MAILOPS_GRAPH_RATE: '100/1s' })).toEqual({ units: 100, windowMs: 1000 });
  });

  it('next and delta links are followed as given, on Graph\'s host only: the token never goes elsewhere', () => {
    const client = api({ MAILOPS_GRAPH_URL: 'https://127.0.0.1:8443' });
    expect(client.url('/me/mailFolders', { $top: 10, $filter: "isRead eq false and subject eq 'a b'" })).toBe(
      "https://127.0.0.1:8443/v1.0/me/mailFolders?$top=10&$filter=isRead%20eq%20false%20and%20subject%20eq%20'a%20b'",
    );
    const delta = 'https://127.0.0.1:8443/v1.0/me/mailFolders/X/messages/delta?$deltatoken=abc';
    expect(client.url(delta)).toBe(delta);
    expect(() => client.url('https://evil.example/v1.0/me/messages?$skiptoken=1')).toThrow(/another host/);
  });
});

describe('Graph ids and folder paths', () => {
  it('immutable ids are taken as printed; a path segment escapes / and \\', () => {
    const id = 'AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0AsKpP5N2lH0-JKtuLSJZ0NQABxnr4DgAA';
    expect(graphIds.parse(id, 'inbox')).toEqual({ id, folder: 'inbox' });
    expect(graphIds.parse('42', 'inbox')).toBeNull();
    expect(graphIds.parse('not an id!', 'inbox')).toBeNull();
    expect(escapeSegment('Projects/2026')).toBe('Projects\\/2026');
    expect(escapeSegment('a\\b')).toBe('a\\\\b');
    expect(escapeSegment('Éléments envoyés')).toBe('Éléments envoyés');
  });
});

describe('sending a large message', () => {
  const big = Buffer.alloc(3 * 1024 * 1024, 7);
  const small = Buffer.from('small attachment');
  const mime = (parts: Array<{ name: string; data: Buffer }>) =>
    Buffer.from(
      [
        'From: a@example.org',
        'To: b@example.org',
        'Subject: files',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="BOUND"',
        '',
        '--BOUND',
        'Content-Type: text/plain; charset=utf-8',
        '',
        'See the files.',
        ...parts.flatMap((p) => ['--BOUND', `Content-Type: application/octet-stream; name="${p.name}"`, `Content-Disposition: attachment; filename="${p.name}"`, 'Content-Transfer-Encoding: base64', '', p.data.toString('base64').replace(/.{76}/g, '$&\r\n')]),
        '--BOUND--',
        '',
      ].join('\r\n'),
    );

  it('takes out the largest attachments until the rest fits one request, and gives them back decoded', () => {
    const raw = mime([{ name: 'small.txt', data: small }, { name: 'big.bin', data: big }, { name: 'big2.bin', data: big }]);
    expect(Math.ceil(raw.length / 3) * 4).toBeGreaterThan(REQUEST_LIMIT);
    const { reduced, detached } = detachAttachments(raw);
    expect(detached.map((d) => d.name).sort()).toEqual(['big.bin', 'big2.bin']);
    expect(detached[0]!.content.equals(big)).toBe(true);
    expect(detached[0]!.contentType).toBe('application/octet-stream');
    const text = reduced.toString('latin1');
    expect(Math.ceil(reduced.length / 3) * 4).toBeLessThanOrEqual(REQUEST_LIMIT);
    // What stays is still a well-formed multipart: the text, the small file, the closing delimiter.
    expect(text).toContain('See the files.');
    expect(text).toContain('filename="small.txt"');
    expect(text).not.toContain('big.bin');
    expect(text.trimEnd().endsWith('--BOUND--')).toBe(true);
    expect(text.match(/^--BOUND\r$/gm)).toHaveLength(2);
  });

  it('a message that fits, or is not multipart/mixed, comes back whole', () => {
    const raw = mime([{ name: 'small.txt', data: small }]);
    expect(detachAttachments(raw)).toEqual({ reduced: raw, detached: [] });
    const plain = Buffer.from('Subject: x\r\n\r\n' + 'a'.repeat(100));
    expect(detachAttachments(plain)).toEqual({ reduced: plain, detached: [] });
  });
});
