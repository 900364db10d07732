// "Newest first" is by arrival date on every provider: a mailbox migrated or restored with its
// original dates (imapsync, doveadm import, APPEND with a date) has UIDs in migration order, and
// is still listed by date: live (UID SORT), from the cache, across pages and across folders.
import { beforeAll, describe, expect, it } from 'vitest';
import type { CliResult } from '../support/cli.js';
import { withImap } from '../support/mailbox.js';
import { connectedAccount, parseJson, textMessage, type Account } from './helpers.js';

/** [subject, arrival date]: appended in this order, so UIDs follow it and not the dates. */
const MIGRATED: Array<[string, string]> = [
  ['2019 invoice', '2019-03-01T09:00:00Z'],
  ['last week', '2025-06-20T09:00:00Z'],
  ['2021 contract', '2021-07-15T09:00:00Z'],
  ['yesterday', '2025-06-26T09:00:00Z'],
  ['2020 memo', '2020-01-10T09:00:00Z'],
  ['2024 report', '2024-11-30T09:00:00Z'],
  ['2018 welcome', '2018-05-05T09:00:00Z'],
];
const BY_DATE = [...MIGRATED].sort((a, b) => b[1].localeCompare(a[1])).map(([subject]) => subject);

async function appendDated(account: Account, folder: string, messages: Array<[string, string]>): Promise<void> {
  await withImap(account.user, async (client) => {
    for (const [subject, date] of messages) {
      const raw = textMessage({ subject, date: new Date(date).toUTCString().replace('GMT', '+0000') });
      await client.append(folder, raw, [], new Date(date));
    }
  });
}

function subjects(result: CliResult): string[] {
  return parseJson(result).messages.map((m: { subject: string }) => m.subject);
}

describe('listing order: newest first by arrival date', () => {
  let account: Account;

  beforeAll(async () => {
    account = await connectedAccount('order');
    await appendDated(account, 'INBOX', MIGRATED);
    await appendDated(account, 'Archive', [
      ['archived 2022', '2022-02-02T09:00:00Z'],
      ['archived 2025', '2025-06-25T09:00:00Z'],
    ]);
  });

  it('ls lists a migrated mailbox by date over several pages, with stable paging', async () => {
    const pages: string[] = [];
    for (let page = 1; page <= 3; page++) {
      const result = await account.cli(['ls', '--json', '--limit', '3', '--page', String(page)]);
      expect(result.code).toBe(0);
      expect(parseJson(result)).toMatchObject({ total: 7, page, page_size: 3, has_next: page < 3 });
      pages.push(...subjects(result));
    }
    expect(pages).toEqual(BY_DATE);
  });

  it('the cache lists the same order, page for page, after a sync', async () => {
    expect((await account.cli(['sync'])).code).toBe(0);
    const live = parseJson(await account.cli(['ls', '--json', '--limit', '4', '--page', '2']));
    const offline = parseJson(await account.cli(['ls', '--offline', '--json', '--limit', '4', '--page', '2']));
    expect(offline.messages.map((m: { id: string }) => m.id)).toEqual(live.messages.map((m: { id: string }) => m.id));
    expect(subjects(await account.cli(['ls', '--offline', '--json', '--limit', '10']))).toEqual(BY_DATE);
  });

  it('search --all-folders merges folders by the same date, live and offline', async () => {
    const expected = ['yesterday', 'archived 2025', 'last week', '2024 report', 'archived 2022', '2021 contract'];
    const live = await account.cli(['search', '--all-folders', '--json', '--limit', '6', 'since:2021-01-01']);
    expect(subjects(live)).toEqual(expected);
    const offline = await account.cli(['search', '--all-folders', '--offline', '--json', '--limit', '6', 'since:2021-01-01']);
    expect(subjects(offline)).toEqual(expected);
  });

  it('search --explain shows the SORT it runs', async () => {
    const result = await account.cli(['search', '--explain', 'is:unread']);
    expect(result.stdout).toContain('UID SORT (ARRIVAL) UTF-8 UNSEEN\n# read from the end: newest first by arrival');
  });

  it('messages that arrived in the same second list the last added first', async () => {
    const same = await connectedAccount('same-second');
    const at = '2025-03-03T12:00:00Z';
    await appendDated(same, 'INBOX', [['first', at], ['second', at], ['third', at]]);
    expect(subjects(await same.cli(['ls', '--json']))).toEqual(['third', 'second', 'first']);
    expect((await same.cli(['sync'])).code).toBe(0);
    expect(subjects(await same.cli(['ls', '--offline', '--json']))).toEqual(['third', 'second', 'first']);
  });
});
