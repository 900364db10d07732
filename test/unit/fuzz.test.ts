// Property-based fuzzing (fast-check) of everything mailops parses from untrusted servers, senders
// and users: the query language, IMAP responses, modified UTF-7, encoded words and RFC 2231, MIME,
// autoconfig XML, the Gmail and Graph response decoders, and the IMAP sync feed over malformed answers. Inputs are arbitrary and mutations of
// the seed corpus in test/fuzz/corpus/. Each target runs MAILOPS_FUZZ_RUNS cases (default 10,000;
// the MIME reader through mailparser a tenth); `npm run fuzz` runs 200,000 each.
// A failure prints its seed and the shrunk counterexample: add that input to the corpus with the fix.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatQuery } from '../../src/core/query/format.js';
import { parseQuery } from '../../src/core/query/index.js';
import { MailopsError } from '../../src/domain/errors.js';
import { parseAutoconfig } from '../../src/diagnose/discovery/autoconfig.js';
import { ResponseTooLarge } from '../../src/net/imap/limits.js';
import { ResponseReader, parseValues } from '../../src/net/imap/response.js';
import { decodeMailboxName, encodeMailboxName } from '../../src/net/imap/utf7.js';
import { decodeEncodedWords } from '../../src/mime/encoded-words.js';
import { readHeaderBlock } from '../../src/mime/headers.js';
import { extractIndexText } from '../../src/mime/index-text.js';
import { parseMessage } from '../../src/mime/parse.js';
import { cachedFromRaw } from '../../src/providers/cached-message.js';
import { parseBatchAnswer } from '../../src/providers/gmail/api.js';
import { toEnvelope as gmailEnvelope } from '../../src/providers/gmail/envelope.js';
import { toEnvelope as graphEnvelope } from '../../src/providers/graph/envelope.js';
import { detachAttachments } from '../../src/providers/graph/send.js';
import { imapSyncFeed } from '../../src/providers/imap/sync.js';
import type { SyncEvent, SyncOptions } from '../../src/domain/sync.js';
import { scriptedClient } from '../support/scripted-imap.js';

const RUNS = Number(process.env.MAILOPS_FUZZ_RUNS ?? 10_000);
const SLOW_RUNS = Math.max(100, Math.round(RUNS / 10));
const corpus = (name: string) => readFileSync(join(import.meta.dirname, '../fuzz/corpus', name));
const IMAP = corpus('imap-transcript.txt');
const MIME = corpus('mime-mixed.eml');
const AUTOCONFIG = corpus('autoconfig.xml').toString('utf8');
const FLAGS = { seen: false, flagged: false, answered: false, draft: false, keywords: [] };

/** A seed with bytes flipped, inserted, deleted and cut: what a broken server or sender makes of it. */
function mutated(seed: Buffer): fc.Arbitrary<Buffer> {
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 16 }) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 32 }) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  );
  return fc.array(edit, { minLength: 1, maxLength: 8 }).map((edits) => {
    let bytes = Buffer.from(seed);
    for (const e of edits) {
      const at = bytes.length === 0 ? 0 : e.at % bytes.length;
      if (e.kind === 'flip') bytes[at] = e.byte;
      else if (e.kind === 'insert') bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(e.bytes), bytes.subarray(at)]);
      else if (e.kind === 'delete') bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + e.length)]);
      else bytes = bytes.subarray(0, at);
    }
    return bytes;
  });
}

/** Bytes cut into chunks at arbitrary places, as a socket delivers them. */
function chunked(bytes: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer[]> {
  return fc.tuple(bytes, fc.array(fc.nat(), { maxLength: 6 })).map(([all, cuts]) => {
    const points = [...new Set(cuts.map((c) => (all.length ? c % all.length : 0)))].sort((a, b) => a - b);
    const out: Buffer[] = [];
    let from = 0;
    for (const p of points) {
      out.push(all.subarray(from, p));
      from = p;
    }
    out.push(all.subarray(from));
    return out;
  });
}

describe('fuzz: the query language', () => {
  const alphabet = fc.constantFrom(...'abc:-"() ORNTisunredflgatchm@.<>0123456789,*\\\t\u00e9'.split(''), ' OR ', ' NOT ', 'from:', 'since:', 'larger:', 'is:', 'before:2026-01-02', 'message-id:<x@y>');
  const text = fc.oneof(fc.string({ maxLength: 40 }), fc.array(alphabet, { maxLength: 20 }).map((parts) => parts.join('')));

  it('any text parses, or is a QUERY_SYNTAX usage error pointing at a column; a parsed query formats and parses back to itself', () => {
    const now = new Date('2026-06-15T12:00:00Z');
    fc.assert(
      fc.property(text, (query) => {
        let tree;
        try {
          tree = parseQuery(query, { now });
        } catch (error) {
          expect(error).toBeInstanceOf(MailopsError);
          expect((error as MailopsError).code).toBe('QUERY_SYNTAX');
          expect((error as MailopsError).message).toMatch(/at column \d+/);
          return;
        }
        expect(parseQuery(formatQuery(tree), { now })).toEqual(tree);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('fuzz: IMAP responses', () => {
  const limits = { maxLine: 4096, maxLiteral: 8192, maxResponse: 16384 };
  const check = (chunks: Buffer[]) => {
    const reader = new ResponseReader(null, limits);
    try {
      for (const chunk of chunks) for (const response of reader.push(chunk)) if (response.type === 'untagged') parseValues(response.segments);
    } catch (error) {
      // The only way out: a response over the limits (a broken stream is otherwise read on).
      expect(error).toBeInstanceOf(ResponseTooLarge);
    }
    // Memory stays inside the limits whatever came.
    expect(reader.buffered).toBeLessThanOrEqual(limits.maxResponse + Math.max(0, ...chunks.map((c) => c.length)));
  };

  it('arbitrary bytes in arbitrary chunks: responses or ResponseTooLarge, never another exception, memory bounded', () => {
    fc.assert(fc.property(chunked(fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a))), check), { numRuns: RUNS });
  });

  it('mutated real transcripts, and literals announced huge: the same', () => {
    const huge = fc.constantFrom('{4294967295}', '{99999999999999999999}', '{8193}', '{0}', '{18446744073709551616}').map((l) => Buffer.from(`* 1 FETCH (BODY[] ${l}\r\nabc`));
    fc.assert(fc.property(chunked(fc.oneof(mutated(IMAP), huge)), check), { numRuns: RUNS });
  });
});

describe('fuzz: the IMAP sync feed', () => {
  const OPTIONS: SyncOptions = { folders: null, full: false, since: null, headersOnly: true, bodyLimit: 1024, batchSize: 50 };
  const fetched = (uid: number) =>
    `* ${uid} FETCH (UID ${uid} FLAGS (\\Seen) RFC822.SIZE 10 INTERNALDATE "01-Jan-2025 00:00:00 +0000" MODSEQ (${uid}) ENVELOPE ("Wed, 1 Jan 2025 00:00:00 +0000" "m${uid}" (("A" NIL "a" "b.c")) NIL NIL NIL NIL NIL NIL "<m${uid}@b>") BODYSTRUCTURE ("text" "plain" NIL NIL NIL "7bit" 2 1) BODY[HEADER.FIELDS (REFERENCES)] {2}`;
  const SCRIPT: Array<[string, string[]]> = [
    ['LIST', ['* LIST () "/" INBOX', '* STATUS INBOX (MESSAGES 3 UIDNEXT 4 UIDVALIDITY 9 UNSEEN 0 HIGHESTMODSEQ 5)']],
    ['EXAMINE "INBOX"', ['* 3 EXISTS', '* OK [UIDVALIDITY 9] ok', '* OK [UIDNEXT 4] ok', '* OK [HIGHESTMODSEQ 5] ok']],
    ['UID FETCH 1:3', [1, 2, 3].flatMap((uid) => [fetched(uid), '', ')'])],
  ];
  const edit = fc.record({ answer: fc.nat(2), line: fc.nat(40), at: fc.nat(), kind: fc.nat(3), text: fc.constantFrom('(', ')', '"', 'NIL', '{5}', ' ', '4294967296', '-1', '0', 'UID', '\\', '[', ']') });

  it('malformed answers (mutated STATUS, EXAMINE and FETCH lines): events without a NaN, or an error that is not a crash', async () => {
    await fc.assert(
      fc.asyncProperty(edit, async ({ answer, line, at, kind, text }) => {
        const script = SCRIPT.map(([k, lines]) => [k, [...lines]] as [string, string[]]);
        const lines = script[answer]![1];
        const i = line % lines.length;
        const old = lines[i]!;
        const cut = old.length ? at % old.length : 0;
        lines[i] = [old.slice(0, cut), old.slice(0, cut) + text + old.slice(cut), old.slice(0, cut) + old.slice(cut + 1 + (at % 5)), old.replace(/\d+/, text.replace(/\D/g, '') || '0')][kind]!;
        const { client } = scriptedClient(script);
        const events: SyncEvent[] = [];
        try {
          for await (const event of imapSyncFeed(client, new Map(), OPTIONS, new AbortController().signal)) events.push(event);
        } catch (error) {
          expect(error).not.toBeInstanceOf(TypeError);
          expect(error).not.toBeInstanceOf(RangeError);
          return;
        }
        // Found by this test: a malformed STATUS stored a NaN unread count, RFC822.SIZE NIL10 a NaN size.
        expect(JSON.stringify(events, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? 'NOT A NUMBER' : v))).not.toContain('NOT A NUMBER');
      }),
      { numRuns: SLOW_RUNS * 3 },
    );
  });
});

describe('fuzz: names and header words', () => {
  it('modified UTF-7: any name round-trips; any text decodes without throwing', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 30 }), (name) => {
        expect(decodeMailboxName(encodeMailboxName(name))).toBe(name);
      }),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.string({ unit: fc.constantFrom('&', '-', 'A', '+', ',', '/', 'Z', '9'), maxLength: 20 }), (a, b) => {
        expect(typeof decodeMailboxName(a + b)).toBe('string');
      }),
      { numRuns: RUNS },
    );
  });

  it('encoded words and RFC 2231: what was encoded decodes back; anything else decodes without throwing', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }), (text) => {
        expect(decodeEncodedWords(`=?utf-8?B?${Buffer.from(text).toString('base64')}?=`)).toBe(text);
      }),
      { numRuns: RUNS },
    );
    const noise = fc.array(fc.constantFrom('=?', '?=', 'utf-8', 'iso-8859-1', "utf-8*en''", 'x-unknown', '?B?', '?Q?', '?b?', '=C3=A9', '_', 'w4k=', '%E2%82', ' ', 'a', '\r\n '), { maxLength: 14 }).map((p) => p.join(''));
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 60 }), noise), (value) => {
        expect(typeof decodeEncodedWords(value)).toBe('string');
      }),
      { numRuns: RUNS },
    );
  });
});

describe('fuzz: MIME', () => {
  it('mutated messages: the header reader, the index text, the cache reader and the large-send splitter never throw; raw stays the bytes given', () => {
    fc.assert(
      fc.property(mutated(MIME), (raw) => {
        const copy = Buffer.from(raw);
        readHeaderBlock(raw);
        expect(typeof extractIndexText(raw)).toBe('string');
        const cached = cachedFromRaw(raw, { id: 'x', received: null, flags: FLAGS }, Infinity);
        // --raw is byte-exact: what is kept is what came.
        expect(cached.raw?.equals(copy)).toBe(true);
        detachAttachments(raw);
      }),
      { numRuns: RUNS },
    );
  });

  it('mutated messages through mailparser (read): never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(mutated(MIME), async (raw) => {
        const parsed = await parseMessage(raw);
        expect(Array.isArray(parsed.attachments)).toBe(true);
      }),
      { numRuns: SLOW_RUNS },
    );
  });
});

describe('fuzz: documents and API answers', () => {
  it('autoconfig XML, mutated or arbitrary: a document or null, never an exception', () => {
    fc.assert(
      fc.property(fc.oneof(mutated(Buffer.from(AUTOCONFIG)).map((b) => b.toString('utf8')), fc.string({ maxLength: 200 })), (xml) => {
        const doc = parseAutoconfig(xml, 'ann@example.com');
        if (doc?.imap) expect(doc.imap.port).toBeGreaterThan(0);
      }),
      { numRuns: RUNS },
    );
  });

  it('Gmail and Graph messages of any JSON shape: an envelope, never an exception', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.object(), (json, object) => {
        for (const m of [json, object]) {
          if (m === null || typeof m !== 'object' || Array.isArray(m)) continue;
          expect(typeof gmailEnvelope(m as never, 'INBOX').subject).toBe('string');
          expect(gmailEnvelope(m as never, 'INBOX').ref.folder).toBe('INBOX');
          graphEnvelope(m as never, 'inbox');
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('a Gmail batch answer of any bytes: parts, or a clear error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.constantFrom('multipart/mixed; boundary=b', 'multipart/mixed; boundary="b"', 'text/plain'), (body, type) => {
        const raw = Buffer.concat([Buffer.from('--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\n\r\n{}\r\n--b\r\n'), Buffer.from(body)]);
        try {
          const parts = parseBatchAnswer({ url: 'x', status: 200, statusText: 'OK', headers: { 'content-type': type }, body: raw, truncated: false });
          expect(Array.isArray(parts)).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(MailopsError);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
