// The commands' run functions against a backend from the registry that is not IMAP: folder ids
// that are not paths, @roles, opaque ids, cursor-only paging and estimated totals. What passes
// here is what the Gmail and Graph adapters can rely on from the core and the CLI.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { run as ls } from '../../src/cli/commands/ls.js';
import { run as mark } from '../../src/cli/commands/mark.js';
import { run as move } from '../../src/cli/commands/move.js';
import { run as read } from '../../src/cli/commands/read.js';
import { run as search } from '../../src/cli/commands/search.js';
import { MailopsError } from '../../src/domain/errors.js';
import type { AccountConfig, Folder } from '../../src/domain/types.js';
import { registerBackend } from '../../src/providers/registry.js';
import { openDatabase } from '../../src/store/db.js';
import { AccountRepository } from '../../src/store/accounts.js';
import { FolderRepository } from '../../src/store/folders.js';
import { fakeBackend, FakeMailbox } from '../support/fake-backend.js';
import { fakeContext } from '../support/fake-io.js';

const folders: Folder[] = [
  { id: 'L_INBOX', path: 'INBOX', name: 'INBOX', delimiter: '/', role: 'inbox', unreadCount: null, totalCount: null, selectable: true },
  { id: 'L_ARCH', path: 'Archive', name: 'Archive', delimiter: '/', role: 'archive', unreadCount: null, totalCount: null, selectable: true },
  { id: 'L_WORK', path: 'Work/Projects', name: 'Projects', delimiter: '/', role: null, unreadCount: null, totalCount: null, selectable: true },
];

const homes: string[] = [];
afterAll(() => homes.forEach((h) => rmSync(h, { recursive: true, force: true })));

let box: FakeMailbox;
let home: string;

beforeEach(() => {
  box = new FakeMailbox(folders);
  // 'graph' has no backend in this build yet: the fake stands in for it.
  registerBackend(fakeBackend('graph', box));
  home = mkdtempSync(join(tmpdir(), 'mailops-fake-'));
  homes.push(home);
  const db = openDatabase(home);
  const config: AccountConfig = {
    name: 'fake', provider: 'imap', backend: 'graph', email: 'me@fake.test', user: 'me@fake.test', imap: null, smtp: null,
    insecure: false, caFile: null, secretStore: 'file', passwordCommand: 'printf secret', priority: 0, isDefault: true,
    createdAt: new Date().toISOString(),
  };
  new AccountRepository(db).save(config, true);
  db.close();
});

function context() {
  return fakeContext({ env: { MAILOPS_HOME: home }, flags: { json: true } });
}

const base = { account: 'fake', limit: 2, page: 1 };

async function failure(promise: Promise<unknown>): Promise<MailopsError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof MailopsError) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

describe('commands on a backend from the registry', () => {
  it('ls: newest first, paths resolved to folder ids (and printed as paths), opaque ids, an estimated total said as one', async () => {
    box.add(['L_INBOX'], 'old', '2025-01-01T00:00:00Z');
    box.add(['L_INBOX', 'L_ARCH'], 'labelled twice', '2025-01-03T00:00:00Z');
    box.add(['L_INBOX'], 'middle', '2025-01-02T00:00:00Z');
    const { ctx, stdout } = context();
    expect(await ls(ctx, ['INBOX'], base)).toBe(0);
    const out = JSON.parse(stdout());
    expect(out.messages.map((m: { subject: string }) => m.subject)).toEqual(['labelled twice', 'middle']);
    expect(out.messages[0]).toMatchObject({ id: 'fk2', uid: null, folder: 'INBOX', is_read: false, flags: [] });
    expect(out).toMatchObject({ folder: 'INBOX', total: 3, total_is_estimate: true, page: 1, page_size: 2, has_next: true });
    expect(box.callsOf('list')[0]![0]).toBe('L_INBOX');
  });

  it('ls --page N walks the cursors of a backend without random access; past the end is empty', async () => {
    for (let i = 1; i <= 5; i++) box.add(['L_INBOX'], `m${i}`, `2025-01-0${i}T00:00:00Z`);
    const third = context();
    expect(await ls(third.ctx, [], { ...base, page: 3 })).toBe(0);
    expect(JSON.parse(third.stdout())).toMatchObject({ messages: [{ subject: 'm1' }], page: 3, has_next: false });
    expect(box.callsOf('list').map((args) => (args[1] as { cursor: string | null }).cursor)).toEqual([null, 'c:2', 'c:4']);

    const beyond = context();
    expect(await ls(beyond.ctx, [], { ...base, page: 4 })).toBe(0);
    expect(JSON.parse(beyond.stdout())).toMatchObject({ messages: [], page: 4, has_next: false });
  });

  it('@roles name folders on any backend; the list is fetched once and then served from the cache', async () => {
    box.add(['L_ARCH'], 'archived', '2025-01-01T00:00:00Z');
    const first = context();
    expect(await ls(first.ctx, ['@archive'], base)).toBe(0);
    expect(JSON.parse(first.stdout())).toMatchObject({ folder: 'Archive', messages: [{ subject: 'archived', folder: 'Archive' }] });
    const second = context();
    expect(await ls(second.ctx, ['@ARCHIVE'], base)).toBe(0);
    expect(box.callsOf('listFolders')).toHaveLength(1);
    const db = openDatabase(home);
    expect(new FolderRepository(db).list('fake').folders.map((f) => f.id)).toEqual(['L_ARCH', 'L_INBOX', 'L_WORK']);
    db.close();
  });

  it('a role the account lacks is FOLDER_NOT_FOUND (exit 5) naming the roles it has; an unknown path too', async () => {
    const missing = await failure(ls(context().ctx, ['@junk'], base));
    expect(missing).toMatchObject({ code: 'FOLDER_NOT_FOUND', exitCode: 5, message: 'this account has no @junk folder' });
    expect(missing.hint).toBe('its roles: @inbox, @archive');
    const unknown = await failure(ls(context().ctx, ['Nowhere'], base));
    expect(unknown).toMatchObject({ code: 'FOLDER_NOT_FOUND', exitCode: 5, message: 'no folder "Nowhere"' });
  });

  it('mark speaks neutral flags to the backend; an id its codec refuses is MESSAGE_NOT_FOUND', async () => {
    const m = box.add(['L_INBOX'], 'to read', '2025-01-01T00:00:00Z');
    const { ctx, stdout } = context();
    expect(await mark(ctx, [[m.id]], { account: 'fake', folder: 'INBOX', read: true, flagged: true })).toBe(0);
    expect(JSON.parse(stdout())).toEqual({ action: 'read,flagged', processed: 1, total: 1, missing: [] });
    expect(box.callsOf('setFlags')[0]![1]).toEqual({ seen: true, flagged: true });
    expect(m.flags).toMatchObject({ seen: true, flagged: true });
    const bad = await failure(mark(context().ctx, [['SU5CT1g.1.2']], { account: 'fake', folder: 'INBOX', read: true }));
    expect(bad).toMatchObject({ code: 'MESSAGE_NOT_FOUND', exitCode: 5 });
  });

  it('ids that name no message: all of them is exit 5 naming them; some is exit 1 after acting on the rest', async () => {
    const m = box.add(['L_INBOX'], 'present', '2025-01-01T00:00:00Z');
    const none = await failure(mark(context().ctx, [['fk90', 'fk91']], { account: 'fake', folder: 'INBOX', read: true }));
    expect(none).toMatchObject({ code: 'MESSAGE_NOT_FOUND', exitCode: 5, message: 'no messages with ids fk90, fk91' });

    const mixed = context();
    expect(await mark(mixed.ctx, [['fk90', m.id, 'not-an-id']], { account: 'fake', folder: 'INBOX', read: true })).toBe(1);
    expect(JSON.parse(mixed.stdout())).toEqual({ action: 'read', processed: 1, total: 3, missing: ['not-an-id', 'fk90'] });
    expect(mixed.stderr()).toContain('not found (moved or deleted since listed, or wrong): not-an-id, fk90');
    expect(m.flags.seen).toBe(true);

    const moved = context();
    expect(await move(moved.ctx, [['fk90', m.id]], { account: 'fake', folder: 'INBOX', to: '@archive' })).toBe(1);
    expect(JSON.parse(moved.stdout())).toMatchObject({ processed: 1, total: 2, to: 'Archive', missing: ['fk90'] });
  });

  it('move --to takes a path or a role and hands the backend the folder id; the JSON names the path', async () => {
    const m = box.add(['L_INBOX'], 'file me', '2025-01-01T00:00:00Z');
    const { ctx, stdout } = context();
    expect(await move(ctx, [[m.id]], { account: 'fake', folder: 'INBOX', to: 'Work/Projects' })).toBe(0);
    expect(JSON.parse(stdout())).toEqual({ action: 'move', processed: 1, total: 1, to: 'Work/Projects', missing: [] });
    expect(box.callsOf('move')[0]![1]).toBe('L_WORK');
    expect(m.folders).toEqual(['L_WORK']);
    const trash = await failure(move(context().ctx, [[m.id]], { account: 'fake', folder: 'INBOX', trash: true }));
    expect(trash).toMatchObject({ code: 'FOLDER_NOT_FOUND', message: 'this account has no @trash folder' });
  });

  it('read peeks unless --mark-read, and search --folder resolves like ls', async () => {
    const m = box.add(['L_ARCH'], 'peek at me', '2025-01-01T00:00:00Z');
    const { ctx, stdout } = context();
    expect(await read(ctx, [m.id], { account: 'fake', folder: '@archive' })).toBe(0);
    expect(JSON.parse(stdout())).toMatchObject({ id: m.id, subject: 'peek at me', is_read: false, body_text: expect.stringContaining('body of peek at me') });
    expect(box.callsOf('fetchMessage')[0]).toEqual([{ id: m.id, folder: 'L_ARCH' }, { peek: true }]);
    expect(m.flags.seen).toBe(false);

    const found = context();
    expect(await search(found.ctx, [['is:unread']], { account: 'fake', folder: '@archive', limit: 10, page: 1 })).toBe(0);
    expect(JSON.parse(found.stdout())).toMatchObject({ folder: 'Archive', messages: [{ id: m.id }] });
  });
});
