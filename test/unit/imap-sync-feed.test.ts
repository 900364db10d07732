// The IMAP change feed over a scripted server: what it asks and what it yields when the server
// refuses one folder. (The real-server runs are in test/e2e/sync*.test.ts.)
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { SyncEvent, SyncOptions } from '../../src/domain/sync.js';
import { compressUidSet, expandUidSet } from '../../src/net/imap/uid-set.js';
import { imapSyncFeed } from '../../src/providers/imap/sync.js';
import { WireClient } from '../../src/providers/imap/wire/client.js';
import { scriptedClient } from '../support/scripted-imap.js';
import { MalformedResponse } from '../../src/net/imap/response.js';
import { decodeFolderToken, encodeFolderToken } from '../../src/providers/imap/sync-token.js';
import { encodeMessageId } from '../../src/providers/imap/ids.js';

const OPTIONS: SyncOptions = { folders: null, full: false, since: null, headersOnly: true, bodyLimit: 1024, batchSize: 50 };

async function events(client: WireClient, state: ReadonlyMap<string, string> = new Map(), options = OPTIONS): Promise<SyncEvent[]> {
  const out: SyncEvent[] = [];
  for await (const event of imapSyncFeed(client, state, options, new AbortController().signal)) out.push(event);
  return out;
}

const names = (got: SyncEvent[]) => got.map((e) => `${e.kind} ${'scope' in e ? e.scope : ''}`);
const id = (uid: number, uidValidity = '9') => encodeMessageId({ folder: 'INBOX', uidValidity, uid });

/** A FETCH of a new message as the server sends it (headers only, as OPTIONS asks). */
const fetched = (uid: number, modseq: number) =>
  `* ${uid} FETCH (UID ${uid} FLAGS () RFC822.SIZE 10 INTERNALDATE "01-Jan-2025 00:00:00 +0000" MODSEQ (${modseq}) ENVELOPE (NIL "m${uid}" NIL NIL NIL NIL NIL NIL NIL "<m${uid}@b>") BODYSTRUCTURE ("text" "plain" NIL NIL NIL "7bit" 2 1) BODY[HEADER.FIELDS (REFERENCES)] {2}`;

describe('imapSyncFeed', () => {
  it('a folder the server refuses is reported and the others are synced', async () => {
    const { client, sent } = scriptedClient([
      ['LIST', [
        '* LIST () "/" Shared',
        '* STATUS Shared (MESSAGES 1 UIDNEXT 2 UIDVALIDITY 7 UNSEEN 0 HIGHESTMODSEQ 3)',
        '* LIST () "/" INBOX',
        '* STATUS INBOX (MESSAGES 1 UIDNEXT 2 UIDVALIDITY 9 UNSEEN 1 HIGHESTMODSEQ 5)',
      ]],
      ['EXAMINE "Shared"', 'NO'],
      ['EXAMINE "INBOX"', ['* 1 EXISTS', '* OK [UIDVALIDITY 9] ok', '* OK [UIDNEXT 2] ok', '* OK [HIGHESTMODSEQ 5] ok']],
      ['UID FETCH 1:1', ['* 1 FETCH (UID 1 FLAGS () RFC822.SIZE 10 INTERNALDATE "01-Jan-2025 00:00:00 +0000" MODSEQ (5) ENVELOPE (NIL "hi" NIL NIL NIL NIL NIL NIL NIL "<a@b>") BODYSTRUCTURE ("text" "plain" NIL NIL NIL "7bit" 2 1) BODY[HEADER.FIELDS (REFERENCES)] {2}', '', ')']],
    ]);
    const got = await events(client);
    expect(names(got)).toEqual([
      'folders ',
      'reset Shared',
      'failed Shared',
      'reset INBOX',
      'plan INBOX',
      'upsert INBOX',
      'checkpoint INBOX',
      'checkpoint INBOX',
    ]);
    expect(got.find((e) => e.kind === 'failed')).toMatchObject({ error: 'Permission denied' });
    expect(sent).toContain('EXAMINE "INBOX"');
  });

  it('any other failure ends the feed', async () => {
    const { client } = scriptedClient([['LIST', ['* LIST () "/" INBOX', '* STATUS INBOX (MESSAGES 1 UIDNEXT 2 UIDVALIDITY 9 HIGHESTMODSEQ 5)']]]);
    await expect(events(client)).rejects.toThrow(/unexpected command: EXAMINE/);
  });
});

describe('imapSyncFeed tokens', () => {
  const LIST = (uidNext: number, modseq: number, messages: number): [string, string[]] => [
    'LIST',
    ['* LIST () "/" INBOX', `* STATUS INBOX (MESSAGES ${messages} UIDNEXT ${uidNext} UIDVALIDITY 9 UNSEEN 0 HIGHESTMODSEQ ${modseq})`],
  ];
  const EXAMINE = (uidNext: number, modseq: number, messages: number): [string, string[]] => [
    'EXAMINE "INBOX"',
    [`* ${messages} EXISTS`, '* OK [UIDVALIDITY 9] ok', `* OK [UIDNEXT ${uidNext}] ok`, `* OK [HIGHESTMODSEQ ${modseq}] ok`],
  ];
  const tokenOf = (got: SyncEvent[]) => {
    const last = got.filter((e) => e.kind === 'checkpoint' || e.kind === 'reset' || (e.kind === 'upsert' && e.checkpoint)).at(-1)!;
    return new Map([['INBOX', last.kind === 'checkpoint' ? last.token : (last as { checkpoint: string }).checkpoint]]);
  };

  it('moves the token forward with every batch, never back, and skips an unchanged folder on the next run', async () => {
    const first = scriptedClient([
      LIST(6, 5, 5),
      EXAMINE(6, 5, 5),
      ['UID FETCH 1:5', [1, 2, 3, 4, 5].flatMap((uid) => [fetched(uid, uid), '', ')'])],
    ]);
    const got = await events(first.client, new Map(), { ...OPTIONS, batchSize: 2 });
    expect(names(got)).toEqual(['folders ', 'reset INBOX', 'plan INBOX', 'upsert INBOX', 'upsert INBOX', 'upsert INBOX', 'checkpoint INBOX', 'checkpoint INBOX']);
    // The progress bar's total: every message of the folder, before the first batch.
    expect(got.find((e) => e.kind === 'plan')).toMatchObject({ messages: 5 });
    const upserts = got.filter((e): e is Extract<SyncEvent, { kind: 'upsert' }> => e.kind === 'upsert');
    expect(upserts.map((e) => e.messages.map((m) => m.message.id))).toEqual([[id(1), id(2)], [id(3), id(4)], [id(5)]]);
    expect(upserts[0]!.messages[0]!.folders).toEqual([{ folder: 'INBOX', uid: 1 }]);
    const lastUids = got.flatMap((e) => ('checkpoint' in e && typeof e.checkpoint === 'string' ? [e.checkpoint] : e.kind === 'checkpoint' ? [e.token] : []))
      .map((token) => (JSON.parse(token) as { l: number }).l);
    expect(lastUids).toEqual([0, 2, 4, 5, 5, 5]);
    expect(got.at(-1)).toMatchObject({ kind: 'checkpoint', complete: true });
    expect(got.filter((e) => e.kind === 'checkpoint').map((e) => (e as { complete: boolean }).complete)).toEqual([false, true]);

    // Nothing changed: one LIST-STATUS, no EXAMINE.
    const second = scriptedClient([LIST(6, 5, 5)]);
    expect(names(await events(second.client, tokenOf(got)))).toEqual(['folders ', 'unchanged INBOX']);
    expect(second.sent).toEqual([expect.stringMatching(/^LIST/)]);

    // A garbled token is no token: the folder starts over.
    const third = scriptedClient([LIST(6, 5, 5), EXAMINE(6, 5, 5), ['UID FETCH 1:5', []]]);
    expect(names(await events(third.client, new Map([['INBOX', 'not json']])))).toContain('reset INBOX');
  });

  it('flag changes by CHANGEDSINCE, expunges by VANISHED (QRESYNC) as gone ids, new mail after the last UID', async () => {
    const token = new Map([['INBOX', JSON.stringify({ v: '9', n: 4, m: '5', l: 3, c: 3, d: true })]]);
    const { client, sent } = scriptedClient([
      LIST(5, 8, 3),
      EXAMINE(5, 8, 3),
      ['UID FETCH 1:3 (UID FLAGS MODSEQ) (CHANGEDSINCE 5 VANISHED)', ['* VANISHED (EARLIER) 2', '* 1 FETCH (UID 1 FLAGS (\\Seen $Label1) MODSEQ (7))']],
      ['UID FETCH 4:4', [fetched(4, 8), '', ')']],
    ]);
    const got = await events(client, token);
    // Both fetches were sent behind EXAMINE; the new mail is read first (readFolder says why).
    expect(names(got)).toEqual(['folders ', 'plan INBOX', 'upsert INBOX', 'checkpoint INBOX', 'flags INBOX', 'gone INBOX', 'checkpoint INBOX']);
    expect(got.find((e) => e.kind === 'plan')).toMatchObject({ messages: 1 });
    expect(got.find((e) => e.kind === 'flags')).toMatchObject({ updates: [{ id: id(1), flags: { seen: true, flagged: false, answered: false, draft: false, keywords: ['$Label1'] } }] });
    expect(got.find((e) => e.kind === 'gone')).toMatchObject({ ids: [id(2)] });
    // The new mail's token keeps the old HIGHESTMODSEQ: a run stopped there asks for the changes again.
    expect(JSON.parse((got[3] as { token: string }).token)).toMatchObject({ m: '5', l: 4 });
    expect(JSON.parse((got.at(-1) as { token: string }).token)).toEqual({ v: '9', n: 5, m: '8', l: 4, c: 3, d: true });
    expect(sent.some((line) => line.startsWith('UID SEARCH'))).toBe(false);
  });

  it('the changes and the new mail answered mixed (the server ran both fetches at once): each answer goes to its own', async () => {
    const token = new Map([['INBOX', JSON.stringify({ v: '9', n: 4, m: '5', l: 3, c: 3, d: true })]]);
    const { client } = scriptedClient([
      LIST(7, 9, 5),
      EXAMINE(7, 9, 5),
      // Dovecot's way: whatever it has ready of either command, with no tag to say whose.
      ['UID FETCH 1:3 (UID FLAGS MODSEQ) (CHANGEDSINCE 5 VANISHED)', ['* 1 FETCH (UID 1 FLAGS (\\Seen) MODSEQ (7))', fetched(4, 8), '', ')', '* VANISHED (EARLIER) 2', fetched(5, 9), '', ')', '* 3 FETCH (UID 3 FLAGS (\\Flagged) MODSEQ (9))']],
      ['UID FETCH 4:6', []],
    ]);
    const got = await events(client, token);
    const upserts = got.flatMap((e) => (e.kind === 'upsert' ? e.messages.map((m) => m.message.id) : []));
    expect(upserts).toEqual([id(4), id(5)]);
    expect(got.find((e) => e.kind === 'flags')).toMatchObject({ updates: [{ id: id(1) }, { id: id(3) }] });
    expect(got.find((e) => e.kind === 'gone')).toMatchObject({ ids: [id(2)] });
    expect(JSON.parse((got.at(-1) as { token: string }).token)).toMatchObject({ m: '9', l: 6, d: true });
  });

  it('sends every folder\'s commands before reading the first one\'s answers, and reads the folders in order', async () => {
    const token = (n: number) => JSON.stringify({ v: '9', n, m: '5', l: n - 1, c: n - 1, d: true });
    const { client, sent } = scriptedClient([
      ['LIST', ['* LIST () "/" A', '* STATUS A (MESSAGES 3 UIDNEXT 4 UIDVALIDITY 9 HIGHESTMODSEQ 6)', '* LIST () "/" B', '* STATUS B (MESSAGES 2 UIDNEXT 3 UIDVALIDITY 9 HIGHESTMODSEQ 5)', '* LIST () "/" C', '* STATUS C (MESSAGES 1 UIDNEXT 2 UIDVALIDITY 9 HIGHESTMODSEQ 2)']],
      ['EXAMINE "A"', ['* 3 EXISTS', '* OK [UIDVALIDITY 9] ok', '* OK [UIDNEXT 4] ok', '* OK [HIGHESTMODSEQ 6] ok']],
      ['EXAMINE "C"', ['* 1 EXISTS', '* OK [UIDVALIDITY 9] ok', '* OK [UIDNEXT 2] ok', '* OK [HIGHESTMODSEQ 2] ok']],
      ['UID FETCH 1:2 (UID FLAGS MODSEQ) (CHANGEDSINCE 5 VANISHED)', ['* 1 FETCH (UID 1 FLAGS (\\Seen) MODSEQ (6))']],
      ['UID FETCH 3:3', [fetched(3, 6), '', ')']],
      ['UID FETCH 1:1', [fetched(1, 2), '', ')']],
    ]);
    const out: SyncEvent[] = [];
    /** How many commands had been sent when each event was read. */
    const sentBy: number[] = [];
    for await (const event of imapSyncFeed(client, new Map([['A', token(3)], ['B', token(3)]]), OPTIONS, new AbortController().signal)) {
      out.push(event);
      sentBy.push(sent.length);
    }
    // B is unchanged (nothing sent for it); A's three commands and C's two all went out before
    // A's last event was read (one folder at a time, C's would wait for it).
    expect(sent.slice(1)).toEqual(['EXAMINE "A"', 'UID FETCH 1:2 (UID FLAGS MODSEQ) (CHANGEDSINCE 5 VANISHED)', expect.stringMatching(/^UID FETCH 3:3 /), 'EXAMINE "C"', expect.stringMatching(/^UID FETCH 1:1 /)]);
    expect(sentBy[out.findLastIndex((e) => e.kind === 'checkpoint' && e.scope === 'A')]).toBe(sent.length);
    expect(names(out)).toEqual(['folders ', 'plan A', 'upsert A', 'checkpoint A', 'flags A', 'checkpoint A', 'unchanged B', 'reset C', 'plan C', 'upsert C', 'checkpoint C', 'checkpoint C']);
  });

  it('without QRESYNC, compares the UIDs that still exist: a present set up to the last UID', async () => {
    const token = new Map([['INBOX', JSON.stringify({ v: '9', n: 4, m: '5', l: 3, c: 3, d: true })]]);
    const { client } = scriptedClient([
      LIST(4, 6, 2),
      EXAMINE(4, 6, 2),
      ['UID FETCH 1:3 (UID FLAGS MODSEQ) (CHANGEDSINCE 5)', []],
      ['UID SEARCH UID 1:3', ['* SEARCH 1 3']],
    ]);
    client.enabled.delete('QRESYNC');
    const got = await events(client, token);
    expect(names(got)).toEqual(['folders ', 'present INBOX', 'checkpoint INBOX']);
    expect(got[1]).toMatchObject({ ids: [id(1), id(3)], upTo: 3 });
  });

  it('a new UIDVALIDITY resets the folder: its old ids go, the token starts over', async () => {
    const token = new Map([['INBOX', JSON.stringify({ v: '8', n: 4, m: '5', l: 3, c: 3, d: true })]]);
    const { client } = scriptedClient([LIST(6, 5, 0), EXAMINE(6, 5, 0), ['UID FETCH 1:5', []]]);
    const got = await events(client, token);
    expect(got[1]).toMatchObject({ kind: 'reset', scope: 'INBOX', reason: 'invalidated' });
    expect(JSON.parse((got[1] as { checkpoint: string }).checkpoint)).toMatchObject({ v: '9', l: 0, d: false });
  });
});

describe('UID sets', () => {
  it('compresses runs (what --since sends) and expands them back', () => {
    expect(compressUidSet([5, 1, 2, 3, 9, 10, 12])).toBe('1:3,5,9:10,12');
    expect(compressUidSet([])).toBe('');
    const many = Array.from({ length: 20_000 }, (_, i) => i + 1).filter((u) => u % 1000 !== 0);
    expect(compressUidSet(many).length).toBeLessThan(400);
    expect(expandUidSet(compressUidSet(many))).toEqual(many);
  });
});

describe('imapSyncFeed over malformed answers (counterexamples the fuzzer found)', () => {
  it('a STATUS count or an RFC822.SIZE that is not a number: absent, or 0; never NaN', async () => {
    const { client } = scriptedClient([
      ['LIST', ['* LIST () "/" INBOX', '* STATUS INBOX (MESSAGES 3 UIDNEXT 4 UIDVALIDITY 9 UNSEEN HESTMODSEQ 5)']],
      ['EXAMINE "INBOX"', ['* 3 EXISTS', '* OK [UIDVALIDITY 9] ok', '* OK [UIDNEXT 4] ok', '* OK [HIGHESTMODSEQ 5] ok']],
      ['UID FETCH 1:3', [fetched(1, 1), '', ')', fetched(2, 2).replace('RFC822.SIZE 10', 'RFC822.SIZE NIL10'), '', ')', fetched(3, 3), '', ')']],
    ]);
    const got = await events(client);
    const folders = got.find((e) => e.kind === 'folders');
    expect(folders).toMatchObject({ folders: [{ id: 'INBOX', unreadCount: null }] });
    const upserted = got.flatMap((e) => (e.kind === 'upsert' ? e.messages : []));
    expect(upserted.map((m) => m.folders[0]!.uid)).toEqual([1, 2, 3]);
    expect(upserted.map((m) => m.message.size)).toEqual([10, 0, 10]);
  });

  it('a new message whose UID is not a number ends the run (MalformedResponse): skipped, the token would pass it for good', async () => {
    const { client } = scriptedClient([
      ['LIST', ['* LIST () "/" INBOX', '* STATUS INBOX (MESSAGES 3 UIDNEXT 4 UIDVALIDITY 9 UNSEEN 0 HIGHESTMODSEQ 5)']],
      ['EXAMINE "INBOX"', ['* 3 EXISTS', '* OK [UIDVALIDITY 9] ok', '* OK [UIDNEXT 4] ok', '* OK [HIGHESTMODSEQ 5] ok']],
      ['UID FETCH 1:3', [fetched(1, 1), '', ')', fetched(2, 2).replace('UID 2', 'UID NIL2'), '', ')', fetched(3, 3), '', ')']],
    ]);
    const got: SyncEvent[] = [];
    const feed = (async () => {
      for await (const event of imapSyncFeed(client, new Map(), OPTIONS, new AbortController().signal)) got.push(event);
    })();
    await expect(feed).rejects.toThrow(MalformedResponse);
    await expect(feed).rejects.toThrow(/a FETCH answer mailops cannot read: \* 2 FETCH \(UID NIL2/);
    // Nothing was checkpointed past message 1.
    const tokens = got.flatMap((e) => (e.kind === 'upsert' ? [e.checkpoint] : e.kind === 'checkpoint' ? [e.token] : []));
    for (const token of tokens) expect(decodeFolderToken(token)?.lastUid ?? 0).toBeLessThan(2);
  });

  it('a flag listing with an unreadable UID ends the run: skipped, the message would look expunged', async () => {
    const known = new Map([['INBOX', encodeFolderToken({ uidValidity: '9', uidNext: 3, highestModseq: null, messageCount: 2, lastUid: 2, done: true })]]);
    for (const [command, lines] of [
      ['UID FETCH 1:2 (UID FLAGS', ['* 1 FETCH (UID 1 FLAGS ())', '* 2 FETCH (UID two FLAGS (\\Seen))']],
    ] as const) {
      const { client } = scriptedClient([
        ['LIST', ['* LIST () "/" INBOX', '* STATUS INBOX (MESSAGES 2 UIDNEXT 3 UIDVALIDITY 9 UNSEEN 0)']],
        ['EXAMINE "INBOX"', ['* 2 EXISTS', '* OK [UIDVALIDITY 9] ok', '* OK [UIDNEXT 3] ok']],
        [command, [...lines]],
      ]);
      await expect(events(client, known)).rejects.toThrow(/a FETCH answer mailops cannot read: \* 2 FETCH \(UID two/);
    }
  });
});

describe('imapSyncFeed over odd but legal answers', () => {
  it('UIDVALIDITY 2^32-1, UIDs descending and repeated: each message once per id, the token at the highest UID', async () => {
    const big = '4294967295';
    const { client } = scriptedClient([
      ['LIST', ['* LIST () "/" INBOX', `* STATUS INBOX (MESSAGES 2 UIDNEXT 4 UIDVALIDITY ${big} UNSEEN 0 HIGHESTMODSEQ 5)`]],
      ['EXAMINE "INBOX"', ['* 2 EXISTS', `* OK [UIDVALIDITY ${big}] ok`, '* OK [UIDNEXT 4] ok', '* OK [HIGHESTMODSEQ 5] ok']],
      ['UID FETCH 1:3', [fetched(3, 3), '', ')', fetched(1, 1), '', ')', fetched(3, 3), '', ')']],
    ]);
    const got = await events(client);
    const upserted = got.flatMap((e) => (e.kind === 'upsert' ? e.messages : []));
    expect(new Set(upserted.map((m) => m.message.id))).toEqual(new Set([id(1, big), id(3, big)]));
    const checkpoint = got.filter((e) => e.kind === 'checkpoint').at(-1) as { token: string };
    expect(JSON.parse(checkpoint.token)).toMatchObject({ v: big, l: 3 });
  });
});

/**
 * The feed over the real sync client and a socket, against a server that answers in order, as
 * IMAP servers do, but only once it has every command of the sync: a client that waited for an
 * answer before its next command would get none. It refuses the first folder (EXAMINE NO, the
 * fetches behind it BAD, as Dovecot answers them) and mixes the second folder's two fetches.
 */
describe('imapSyncFeed over the sync client', () => {
  const CAPS = 'IMAP4rev1 LITERAL+ SASL-IR ENABLE LIST-EXTENDED LIST-STATUS CONDSTORE QRESYNC';
  const message = (uid: number, modseq: number) =>
    `* ${uid} FETCH (UID ${uid} FLAGS () RFC822.SIZE 10 INTERNALDATE "01-Jan-2025 00:00:00 +0000" MODSEQ (${modseq}) ENVELOPE (NIL "m${uid}" NIL NIL NIL NIL NIL NIL NIL "<m${uid}@b>") BODYSTRUCTURE ("text" "plain" NIL NIL NIL "7bit" 2 1) BODY[HEADER.FIELDS (REFERENCES)] {2}\r\n\r\n)\r\n`;

  it('sends both folders\' commands at once; a refused folder does not stop the next; mixed answers each go to their own', async () => {
    const received: string[] = [];
    let answeredWithAllSent: boolean | null = null;
    const server = createServer((socket) => {
      socket.write(`* OK [CAPABILITY ${CAPS} AUTH=PLAIN] ready\r\n`);
      let buffered = '';
      const held: string[] = [];
      socket.on('data', (chunk) => {
        buffered += chunk.toString('latin1');
        let end: number;
        while ((end = buffered.indexOf('\r\n')) >= 0) {
          const line = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          received.push(line);
          const [tag, command] = line.split(' ');
          if (command === 'LOGIN') socket.write(`${tag} OK [CAPABILITY ${CAPS}] Logged in\r\n`);
          else if (command === 'ENABLE') socket.write(`* ENABLED QRESYNC CONDSTORE\r\n${tag} OK Enabled\r\n`);
          else if (command === 'LIST') {
            socket.write('* LIST () "/" A\r\n* STATUS A (MESSAGES 1 UIDNEXT 2 UIDVALIDITY 3 HIGHESTMODSEQ 1)\r\n');
            socket.write('* LIST () "/" B\r\n* STATUS B (MESSAGES 3 UIDNEXT 5 UIDVALIDITY 7 HIGHESTMODSEQ 9)\r\n');
            socket.write(`${tag} OK List completed\r\n`);
          } else if (command === 'LOGOUT') socket.end(`* BYE\r\n${tag} OK Logout completed\r\n`);
          else held.push(tag!);
          // EXAMINE A, its fetch, EXAMINE B, its two fetches: all five, then every answer, in order.
          if (held.length === 5) {
            answeredWithAllSent = true;
            const [examineA, fetchA, examineB, changesB, newB] = held;
            socket.write(`${examineA} NO [NONEXISTENT] Mailbox doesn't exist: A\r\n${fetchA} BAD No mailbox selected\r\n`);
            socket.write(`* 3 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT 5] ok\r\n* OK [HIGHESTMODSEQ 9] ok\r\n${examineB} OK [READ-ONLY] done\r\n`);
            // Dovecot runs the two fetches at once: their answers mixed, the new mail's done first.
            socket.write(`* 1 FETCH (UID 1 FLAGS (\\Seen) MODSEQ (8))\r\n${message(3, 8)}* VANISHED (EARLIER) 2\r\n${message(4, 9)}${newB} OK Fetch completed\r\n${changesB} OK Fetch completed\r\n`);
            held.length = 0;
          }
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = new WireClient({
      endpoint: { host: '127.0.0.1', port: (server.address() as AddressInfo).port, tls: 'none' },
      credentials: { kind: 'password', user: 'someone', password: 'secret' },
      insecure: false,
      caFile: null,
      runtime: { timeoutMs: 5000, trace: null, warn: () => {} },
    });
    try {
      await client.open(new AbortController().signal);
      const state = new Map([['B', JSON.stringify({ v: '7', n: 3, m: '5', l: 2, c: 2, d: true })]]);
      const got = await events(client, state);
      expect(answeredWithAllSent).toBe(true);
      expect(received.slice(3).map((line) => line.split(' ').slice(1, 3).join(' '))).toEqual(['EXAMINE "A"', 'UID FETCH', 'EXAMINE "B"', 'UID FETCH', 'UID FETCH']);
      expect(names(got)).toEqual(['folders ', 'reset A', 'failed A', 'plan B', 'upsert B', 'checkpoint B', 'flags B', 'gone B', 'checkpoint B']);
      const bId = (uid: number) => encodeMessageId({ folder: 'B', uidValidity: '7', uid });
      expect(got.flatMap((e) => (e.kind === 'upsert' ? e.messages.map((m) => m.message.id) : []))).toEqual([bId(3), bId(4)]);
      expect(got.find((e) => e.kind === 'flags')).toMatchObject({ updates: [{ id: bId(1), flags: { seen: true } }] });
      expect(got.find((e) => e.kind === 'gone')).toMatchObject({ ids: [bId(2)] });
      expect(JSON.parse((got.at(-1) as { token: string }).token)).toMatchObject({ n: 5, m: '9', l: 4, d: true });
    } finally {
      client.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
