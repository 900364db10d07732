// Ids that name no message (moved by someone else, expunged, or simply wrong) in mark, move and
// move --expunge, against the suite's Dovecot: none found is exit 5 with MESSAGE_NOT_FOUND naming
// them, as read does; some found is acted on, the others named on stderr and in JSON, exit 1.
import { beforeEach, describe, expect, it } from 'vitest';
import { appendMessage, getFlags, listUids, withImap } from '../support/mailbox.js';
import { connectedAccount, jsonError, parseJson, textMessage, type Account } from './helpers.js';

describe('message ids that are gone', () => {
  let account: Account;
  let ids: string[];
  let uids: number[];

  beforeEach(async () => {
    account = await connectedAccount('gone-ids');
    uids = [];
    for (const subject of ['kept', 'taken by another client', 'expunged elsewhere']) {
      uids.push(await appendMessage(account.user, 'INBOX', textMessage({ subject })));
    }
    const listed = parseJson(await account.cli(['ls', '--json']));
    // ls is newest first: map back to the order appended.
    ids = [...listed.messages].reverse().map((m: { id: string }) => m.id);
    // Another client moves one away and expunges another after they were listed.
    await withImap(account.user, async (client) => {
      const lock = await client.getMailboxLock('INBOX');
      try {
        await client.messageMove(String(uids[1]), 'Archive', { uid: true });
        await client.messageDelete(String(uids[2]), { uid: true });
      } finally {
        lock.release();
      }
    });
  });

  for (const [name, args] of [
    ['mark --read', ['mark', '--read']],
    ['move --to Archive', ['move', '--to', 'Archive']],
    ['move --expunge --yes', ['move', '--expunge', '--yes']],
  ] as const) {
    it(`${name}: only gone ids is exit 5 naming them, and nothing changes`, async () => {
      const result = await account.cli([...args, ids[1]!, ids[2]!, '--json']);
      expect(result.code).toBe(5);
      const error = jsonError(result);
      expect(error.code).toBe('MESSAGE_NOT_FOUND');
      expect(error.message).toBe(`no messages with ids ${ids[1]}, ${ids[2]}`);
      expect(await listUids(account.user, 'INBOX')).toEqual([uids[0]]);
      expect(await getFlags(account.user, 'INBOX', uids[0]!)).not.toContain('\\Seen');
    });

    it(`${name}: a mix acts on the present one, names the gone ones, exit 1`, async () => {
      const result = await account.cli([...args, ids[0]!, ids[1]!, 'no-such-id', '--json']);
      expect(result.code).toBe(1);
      const out = parseJson(result);
      expect(out).toMatchObject({ processed: 1, total: 3 });
      expect(out.missing).toEqual(['no-such-id', ids[1]]);
      expect(result.stderr).toContain(`not found (moved or deleted since listed, or wrong): no-such-id, ${ids[1]}`);
      if (args[0] === 'mark') expect(await getFlags(account.user, 'INBOX', uids[0]!)).toContain('\\Seen');
      else expect(await listUids(account.user, 'INBOX')).toEqual([]);
    });
  }

  it('one wrong id alone is exit 5 for mark, as for read', async () => {
    const result = await account.cli(['mark', '--flagged', 'SU5CT1g.1.99999']);
    expect(result.code).toBe(5);
    expect(result.stderr).toContain('no message with id SU5CT1g.1.99999');
    const read = await account.cli(['read', 'SU5CT1g.1.99999']);
    expect(read.code).toBe(5);
  });
});
