// Seed messages for the conformance suite: RFC 5322 bytes built from a few fields, and the search
// corpus whose every message is there to match some query terms and to be missed by others.
import type { NeutralFlags, SeedMessage } from './harness.js';

export interface MessageSpec {
  subject: string;
  /** Arrival date, ISO 8601 UTC; the Date header says the same. */
  date: string;
  /** Unique within the account; the local part must not contain a word the suite searches for. */
  messageId: string;
  from?: string;
  to?: string;
  cc?: string;
  bcc?: string;
  body?: string;
  attachment?: { filename: string; contentType: string; content: Buffer };
  flags?: Partial<NeutralFlags>;
}

/** The message as a seed: CRLF line ends, a multipart/mixed body when there is an attachment. */
export function message(spec: MessageSpec): SeedMessage {
  const date = new Date(spec.date);
  const headers = [
    `From: ${spec.from ?? 'Alice Example <alice@example.org>'}`,
    `To: ${spec.to ?? 'Bob <bob@example.org>'}`,
    ...(spec.cc ? [`Cc: ${spec.cc}`] : []),
    ...(spec.bcc ? [`Bcc: ${spec.bcc}`] : []),
    `Subject: ${spec.subject}`,
    `Date: ${date.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: ${spec.messageId}`,
    'MIME-Version: 1.0',
  ];
  const text = spec.body ?? 'Hello.';
  const lines = spec.attachment
    ? [
        ...headers,
        'Content-Type: multipart/mixed; boundary="part"',
        '',
        '--part',
        'Content-Type: text/plain; charset=utf-8',
        '',
        text,
        '--part',
        `Content-Type: ${spec.attachment.contentType}`,
        `Content-Disposition: attachment; filename="${spec.attachment.filename}"`,
        'Content-Transfer-Encoding: base64',
        '',
        spec.attachment.content.toString('base64'),
        '--part--',
      ]
    : [...headers, 'Content-Type: text/plain; charset=utf-8', '', text];
  return { raw: Buffer.from([...lines, ''].join('\r\n')), messageId: spec.messageId, date, flags: spec.flags };
}

/** Successive arrival dates, one day apart from `start`: mail seeded in arrival order, newest last. */
export function arrivals(start: string): () => string {
  let next = new Date(start).getTime();
  return () => {
    const at = new Date(next).toISOString();
    next += 86_400_000;
    return at;
  };
}

export const INVOICE_PDF = Buffer.from('%PDF-1.4 a small invoice\n');

/**
 * The search corpus, oldest first. Each query word occurs in one field of one message only
 * (kiwi: R1, station: R2's body, zebra: R3, mango: R4), so a query that matches too much shows.
 */
export const CORPUS = {
  R1: message({
    subject: 'Kiwi harvest report',
    date: '2024-03-01T10:00:00Z',
    messageId: '<r1.a7@example.net>',
    from: 'Alice Orchard <alice@orchard.test>',
    to: 'Bob <bob@example.org>',
    cc: 'Carol <carol@billing.test>',
    body: 'The kiwi numbers for March are in.',
    flags: { seen: true },
  }),
  R2: message({
    subject: 'Lunch on Friday',
    date: '2024-03-05T12:00:00Z',
    messageId: '<r2.b8@example.net>',
    from: 'Bob Builder <bob@builder.test>',
    to: 'Dave <dave@example.org>',
    bcc: 'erin@example.org',
    body: 'Shall we meet at the station?',
    flags: { flagged: true },
  }),
  R3: message({
    subject: 'Invoice attached',
    date: '2024-06-03T09:00:00Z',
    messageId: '<r3.c9@example.net>',
    from: 'Carol <carol@billing.test>',
    body: 'The zebra invoice is attached.',
    attachment: { filename: 'invoice.pdf', contentType: 'application/pdf', content: INVOICE_PDF },
    flags: { seen: true, answered: true },
  }),
  R4: message({
    subject: 'Quarterly numbers',
    date: '2024-07-01T08:00:00Z',
    messageId: '<r4.d0@example.net>',
    from: 'Dave <dave@example.org>',
    // About 12 KB: the one message above larger:8K.
    body: 'Mango sales went up.\r\n'.repeat(560),
  }),
  R5: message({
    subject: 'Disk full on web-3',
    date: '2025-01-08T03:00:00Z',
    messageId: '<r5.e1@example.net>',
    from: 'Monitor <monitor@ops.test>',
    body: 'The harvest is fine; see the report.',
    flags: { seen: true, flagged: true },
  }),
};

export type CorpusKey = keyof typeof CORPUS;

/**
 * Every term of the contract's query table, each with exactly the corpus messages it finds,
 * newest first. A term's non-matches are the rest of the corpus, chosen to be near misses.
 */
export const QUERY_TERMS: Array<[query: string, matches: CorpusKey[]]> = [
  ['kiwi', ['R1']],
  ['builder', ['R2']], // a word of an address
  ['harvest report', ['R5', 'R1']], // two words, anywhere
  ['"harvest report"', ['R1']], // the phrase, not R5's "harvest ... report"
  ['from:alice', ['R1']],
  ['from:dave', ['R4']], // not R2, which is *to* Dave
  ['to:dave', ['R2']], // not R4, which is *from* Dave
  ['cc:carol', ['R1']], // not R3, which is *from* Carol
  ['bcc:erin', ['R2']],
  ['subject:lunch', ['R2']],
  ['subject:station', []], // the word is in R2's body only: an empty result, exit 0
  ['body:station', ['R2']],
  ['body:mango', ['R4']],
  ['message-id:<r3.c9@example.net>', ['R3']],
  ['is:unread', ['R4', 'R2']],
  ['is:read', ['R5', 'R3', 'R1']],
  ['is:flagged', ['R5', 'R2']],
  ['is:unflagged', ['R4', 'R3', 'R1']],
  ['is:answered', ['R3']],
  ['has:attachment', ['R3']],
  ['since:2024-06-03', ['R5', 'R4', 'R3']], // inclusive: R3 arrived that day
  ['after:2024-06-03', ['R5', 'R4', 'R3']], // inclusive, as since:
  ['before:2024-06-03', ['R2', 'R1']], // exclusive
  ['since:2024-03-01 before:2024-03-05', ['R1']],
  ['larger:8K', ['R4']],
  ['smaller:8K', ['R5', 'R3', 'R2', 'R1']],
  ['from:bob OR is:answered', ['R3', 'R2']],
  ['-kiwi', ['R5', 'R4', 'R3', 'R2']],
  ['NOT is:read', ['R4', 'R2']],
  ['(kiwi OR mango) is:unread', ['R4']],
  ['NOT (is:read OR has:attachment)', ['R4', 'R2']],
];
