// RFC 2045 section 5.2 end to end: a message whose Content-Type has no subtype, as old mailers
// write it, read from the suite's Dovecot live and from the cache, and found by its words.
import { beforeAll, describe, expect, it } from 'vitest';
import { appendMessage } from '../support/mailbox.js';
import { connectedAccount, parseJson, type Account } from './helpers.js';

const NO_SUBTYPE = [
  'From: Legacy Mailer <daemon@old.example.org>',
  'To: ops@example.org',
  'Subject: nightly backup report',
  'Date: Mon, 06 Jan 2025 03:00:00 +0000',
  'Message-ID: <backup-1@old.example.org>',
  'MIME-Version: 1.0',
  'Content-Type: text; charset=us-ascii',
  '',
  'Backup of /srv finished: 1234 files, 0 errors.',
  '',
].join('\r\n');

describe('a Content-Type without a subtype', () => {
  let account: Account;

  beforeAll(async () => {
    account = await connectedAccount('no-subtype');
    await appendMessage(account.user, 'INBOX', NO_SUBTYPE);
  });

  it('is read as text/plain: its body shown, no attachment listed, live and offline', async () => {
    const listed = parseJson(await account.cli(['ls', '--json']));
    expect(listed.messages).toHaveLength(1);
    const [message] = listed.messages;
    expect(message).toMatchObject({ subject: 'nightly backup report', has_attachments: false });

    const live = await account.cli(['read', message.id, '--json']);
    expect(live.code).toBe(0);
    expect(parseJson(live)).toMatchObject({ body_text: expect.stringContaining('Backup of /srv finished: 1234 files, 0 errors.'), attachments: [] });
    const shown = await account.cli(['read', message.id]);
    expect(shown.stdout).toContain('Backup of /srv finished');
    expect(shown.stdout).not.toContain('attachment-1');

    expect((await account.cli(['sync'])).code).toBe(0);
    const offline = await account.cli(['read', message.id, '--offline', '--json']);
    expect(parseJson(offline)).toMatchObject({ body_text: expect.stringContaining('0 errors'), attachments: [] });
    const found = parseJson(await account.cli(['search', '--offline', '--json', 'body:1234']));
    expect(found.messages.map((m: { id: string }) => m.id)).toEqual([message.id]);
  });
});
