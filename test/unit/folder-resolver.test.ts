// The folder resolver on its own: which inputs are roles, when it looks folders up, and what it
// says when a role is missing, for a backend whose folder ids are paths (IMAP) and one whose are not.
import { describe, expect, it } from 'vitest';
import { FolderResolver, roleOf } from '../../src/core/folder-resolver.js';
import type { Folder, FolderRole } from '../../src/domain/types.js';

function folder(id: string, path: string, role: FolderRole | null, selectable = true): Folder {
  return { id, path, name: path.split('/').pop()!, delimiter: '/', role, unreadCount: null, totalCount: null, selectable };
}

function resolver(folderIdIsPath: boolean, cached: Folder[], live: Folder[] | null) {
  const calls = { live: 0 };
  const r = new FolderResolver(
    { folderIdIsPath },
    { cached: () => cached, live: live === null ? null : async () => (calls.live++, live) },
  );
  return { r, calls };
}

describe('roleOf', () => {
  it('reads the contract role names in any case, and nothing else', () => {
    expect(roleOf('@trash')).toBe('trash');
    expect(roleOf('@Sent')).toBe('sent');
    expect(roleOf('@all')).toBe('all');
    expect(roleOf('trash')).toBeNull();
    // A folder may start with @: only the eight role names are roles.
    expect(roleOf('@work')).toBeNull();
  });
});

describe('FolderResolver', () => {
  const imapFolders = [folder('INBOX', 'INBOX', 'inbox'), folder('Papierkorb', 'Papierkorb', 'trash'), folder('Sent', 'Sent', 'sent')];

  it('IMAP: a path is its own id and costs no lookup; INBOX in any case is INBOX', async () => {
    const { r, calls } = resolver(true, [], imapFolders);
    expect(await r.resolve('Archive/2024')).toEqual({ id: 'Archive/2024', path: 'Archive/2024', role: null });
    expect(await r.resolve('inbox')).toEqual({ id: 'INBOX', path: 'INBOX', role: 'inbox' });
    expect(calls.live).toBe(0);
  });

  it('IMAP: a role is looked up in the cached list first, then on the server once', async () => {
    const cachedOnly = resolver(true, imapFolders, imapFolders);
    expect(await cachedOnly.r.resolve('@trash')).toEqual({ id: 'Papierkorb', path: 'Papierkorb', role: 'trash' });
    expect(cachedOnly.calls.live).toBe(0);
    const fresh = resolver(true, [], imapFolders);
    expect(await fresh.r.resolve('@sent')).toMatchObject({ id: 'Sent' });
    await expect(fresh.r.resolve('@junk')).rejects.toMatchObject({ code: 'FOLDER_NOT_FOUND', hint: 'its roles: @inbox, @sent, @trash' });
    expect(fresh.calls.live).toBe(1);
  });

  it('a \\Noselect folder never answers for a role', async () => {
    const { r } = resolver(true, [folder('Trash', 'Trash', 'trash', false)], null);
    await expect(r.resolve('@trash')).rejects.toMatchObject({ code: 'FOLDER_NOT_FOUND', exitCode: 5 });
  });

  it('offline, a missing role says the answer is as of the last sync, or that nothing is cached', async () => {
    await expect(resolver(true, imapFolders, null).r.resolve('@archive')).rejects.toMatchObject({
      hint: 'its roles: @inbox, @sent, @trash (as of the last sync)',
    });
    await expect(resolver(false, [], null).r.resolve('@archive')).rejects.toMatchObject({
      hint: 'the cache holds no folder list yet: run mailops folders or mailops sync',
    });
  });

  it('API backends: paths and roles map to the folder ids the backend gave', async () => {
    const labels = [folder('Label_7', 'Clients/Acme', null), folder('INBOX', 'INBOX', 'inbox'), folder('TRASH', 'Trash', 'trash')];
    const { r, calls } = resolver(false, [], labels);
    expect(await r.resolve('Clients/Acme')).toEqual({ id: 'Label_7', path: 'Clients/Acme', role: null });
    expect(await r.resolve('Inbox')).toEqual({ id: 'INBOX', path: 'INBOX', role: 'inbox' });
    expect(await r.resolve('@TRASH')).toEqual({ id: 'TRASH', path: 'Trash', role: 'trash' });
    await expect(r.resolve('clients/acme')).rejects.toMatchObject({ code: 'FOLDER_NOT_FOUND', message: 'no folder "clients/acme"' });
    // Listed once for all four.
    expect(calls.live).toBe(1);
  });
});
