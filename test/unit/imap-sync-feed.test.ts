// The IMAP change feed over a scripted server: what it asks and what it yields when the server
// refuses one folder. (The real-server runs are in test/e2e/sync*.test.ts.)
import { describe, expect, it } from 'vitest';
import type { SyncEvent, SyncOptions } from '../../src/domain/sync.js';
import { compressUidSet, expandUidSet } from '../../src/net/imap/uid-set.js';
import { imapSyncFeed } from '../../src/providers/imap/sync.js';
import type { WireClient } from '../../src/providers/imap/wire/client.js';
import { ResponseReader, type Untagged } from '../../src/net/imap/response.js';

const OPTIONS: SyncOptions = { folders: null, full: false, since: null, headersOnly: true, bodyLimit: 1024, batchSize: 50 };

function untagged(lines: string[]): Untagged[] {
  return new ResponseReader().push(Buffer.from(lines.map((l) => `${l}\r\n`).join(''))) as Untagged[];
}

/** A client answering each command from `script` (matched by its start); a NO is thrown in imapflow's shape. */
function scriptedClient(script: Array<[string, string[] | 'NO']>): { client: WireClient; sent: string[] } {
  const sent: string[] = [];
  const answer = (line: string) => {
    sent.push(line);
    const entry = script.find(([start]) => line.startsWith(start));
    if (!entry) throw new Error(`unexpected command: ${line}`);
    if (entry[1] === 'NO') throw Object.assign(new Error('Command failed'), { responseStatus: 'NO', responseText: 'Permission denied' });
    return untagged(entry[1]);
  };
  const client = {
    capabilities: new Set(['IMAP4REV1', 'LIST-EXTENDED', 'LIST-STATUS', 'CONDSTORE', 'QRESYNC']),
    enabled: new Set(['CONDSTORE', 'QRESYNC']),
    async command(line: string, onUntagged: (r: Untagged) => void = () => {}) {
      for (const r of answer(line)) onUntagged(r);
      return { type: 'tagged', tag: 'W1', status: 'OK', code: null, text: 'done' };
    },
    async *stream(line: string) {
      yield* answer(line);
    },
  };
  return { client: client as unknown as WireClient, sent };
}

async function events(client: WireClient): Promise<SyncEvent[]> {
  const out: SyncEvent[] = [];
  for await (const event of imapSyncFeed(client, new Map(), OPTIONS, new AbortController().signal)) out.push(event);
  return out;
}

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
    expect(got.map((e) => `${e.kind} ${'path' in e ? e.path : ''}`)).toEqual([
      'folder_list ',
      'folder_reset Shared',
      'folder_failed Shared',
      'folder_reset INBOX',
      'messages INBOX',
      'messages INBOX',
      'folder_done INBOX',
    ]);
    expect(got.find((e) => e.kind === 'folder_failed')).toMatchObject({ error: 'Permission denied' });
    expect(sent).toContain('EXAMINE "INBOX"');
  });

  it('any other failure ends the feed', async () => {
    const { client } = scriptedClient([['LIST', ['* LIST () "/" INBOX', '* STATUS INBOX (MESSAGES 1 UIDNEXT 2 UIDVALIDITY 9 HIGHESTMODSEQ 5)']]]);
    await expect(events(client)).rejects.toThrow(/unexpected command: EXAMINE/);
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
