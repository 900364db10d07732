// The IMAP/SMTP provider against the real Dovecot and SMTP server of the test bed: what each
// operation returns and the state it leaves in the mailbox, checked independently over IMAP.
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MailopsError } from '../../src/domain/errors.js';
import type { MailProvider, ProviderRuntime } from '../../src/domain/provider.js';
import type { MessageRef, TlsMode } from '../../src/domain/types.js';
import { decodeMessageId, encodeMessageId, imapIds, keyOf } from '../../src/providers/imap/ids.js';
import { resolveIds } from '../../src/core/messages.js';
import { createImapProvider, type ImapProviderConfig } from '../../src/providers/imap/provider.js';
import { mailBed, newUser } from '../support/bed.js';
import { makeCa, makeServerCert } from '../support/certs.js';
import { startDovecot, type Dovecot } from '../support/dovecot.js';
import { appendMessage, createFolder, fetchSource, getFlags, listUids, withImap } from '../support/mailbox.js';
import { freePort } from '../support/net.js';
import type { MailUser } from '../support/users.js';

/** Flags as the server keeps them, without \\Recent (which belongs to one session). */
async function flagsOf(user: MailUser, folder: string, uid: number): Promise<string[] | undefined> {
  return (await getFlags(user, folder, uid))?.filter((flag) => flag !== '\\Recent');
}

const never = new AbortController().signal;

interface TraceLine {
  source: string;
  direction: string;
  line: string;
}

interface Harness {
  provider: MailProvider;
  trace: TraceLine[];
}

const opened: MailProvider[] = [];
afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map((p) => p.close()));
});

interface Endpoints {
  host?: string;
  imapPort?: number;
  imapTls?: TlsMode;
  smtpPort?: number;
  smtpTls?: TlsMode;
  timeoutMs?: number;
}

function open(user: MailUser, overrides: Partial<ImapProviderConfig> & Endpoints = {}, tracing = false): Harness {
  const bed = mailBed();
  const trace: TraceLine[] = [];
  const runtime: ProviderRuntime = {
    timeoutMs: overrides.timeoutMs ?? 10_000,
    trace: tracing ? (source, direction, line) => trace.push({ source, direction, line }) : null,
    warn: () => {},
  };
  const host = overrides.host ?? bed.host;
  const provider = createImapProvider(
    {
      email: user.email,
      imap: { host, port: overrides.imapPort ?? bed.imapsPort, tls: overrides.imapTls ?? 'implicit' },
      smtp: { host, port: overrides.smtpPort ?? bed.smtpPort, tls: overrides.smtpTls ?? 'starttls' },
      credentials: overrides.credentials ?? { kind: 'password', user: user.user, password: user.password },
      insecure: overrides.insecure ?? false,
      caFile: overrides.caFile === undefined ? bed.caFile : overrides.caFile,
    },
    runtime,
  );
  opened.push(provider);
  return { provider, trace };
}

async function failure(promise: Promise<unknown>): Promise<MailopsError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(MailopsError);
    return err as MailopsError;
  }
  throw new Error('expected the operation to fail');
}

let sequence = 0;
/** An RFC 5322 message with CRLF line ends; each has a unique Message-ID. */
function message(opts: { subject: string; from?: string; to?: string; body?: string; date?: string; attachment?: boolean }): Buffer {
  sequence += 1;
  const id = `<m${sequence}.${Date.now()}@mailops.test>`;
  const head = [
    `From: ${opts.from ?? 'Ann Sender <ann@example.test>'}`,
    `To: ${opts.to ?? 'Bob <bob@example.test>'}, carol@example.test`,
    `Subject: ${opts.subject}`,
    `Date: ${opts.date ?? 'Thu, 09 Jan 2025 10:30:00 +0000'}`,
    `Message-ID: ${id}`,
    'MIME-Version: 1.0',
  ];
  const body = opts.body ?? `Body of ${opts.subject}`;
  if (!opts.attachment) {
    return Buffer.from([...head, 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '', body, ''].join('\r\n'));
  }
  return Buffer.from(
    [
      ...head,
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=utf-8',
      '',
      body,
      '--b1',
      'Content-Type: application/pdf; name="report.pdf"',
      'Content-Disposition: attachment; filename="report.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      'JVBERi0xLjQKJcfsj6IK',
      '--b1--',
      '',
    ].join('\r\n'),
  );
}

/** The ref `ls` would print for a UID the test appended. */
async function refFor(provider: MailProvider, folder: string, uid: number): Promise<MessageRef> {
  const page = await provider.list(folder, { query: null, page: { limit: 500, page: 1 } }, never);
  const found = page.items.find((item) => item.uid === uid);
  if (!found) throw new Error(`uid ${uid} not listed in ${folder}`);
  return found.ref;
}

describe('verify and connection errors', () => {
  it('logs in over implicit TLS and reports the steps, round trip and capabilities', async () => {
    const user = newUser('verify');
    const result = await open(user).provider.verify(never);
    expect(result.checks.map((c) => c.step)).toEqual(['connect', 'login', 'select']);
    expect(result.checks.every((c) => c.ok && c.ms >= 0)).toBe(true);
    expect(result.checks[0]!.detail).toMatch(/^127\.0\.0\.1:\d+, TLSv1\.[23]$/);
    expect(result.checks[1]!.detail).toBe(`logged in as ${user.user}`);
    expect(result.checks[2]!.detail).toBe('INBOX: 0 messages');
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    expect(result.capabilities).toEqual(expect.arrayContaining(['IMAP4rev1', 'MOVE', 'UIDPLUS']));
  });

  it('logs in with STARTTLS and without TLS on the plain port', async () => {
    const user = newUser('verify-plain');
    const starttls = await open(user, { imapPort: mailBed().imapPort, imapTls: 'starttls' }).provider.verify(never);
    expect(starttls.checks[0]!.detail).toMatch(/TLSv1\.[23]$/);
    const plain = await open(user, { imapPort: mailBed().imapPort, imapTls: 'none' }).provider.verify(never);
    expect(plain.checks[0]!.detail).toMatch(/, no TLS$/);
  });

  it('reports a closed port as CONNECTION_REFUSED', async () => {
    const port = await freePort();
    const err = await failure(open(newUser('refused'), { imapPort: port }).provider.verify(never));
    expect(err.code).toBe('CONNECTION_REFUSED');
    expect(err.exitCode).toBe(4);
    expect(err.message).toBe(`IMAP server 127.0.0.1:${port} refused the connection`);
  });

  it('reports TLS spoken to a plain-text port as TLS_MODE_MISMATCH', async () => {
    const err = await failure(open(newUser('mismatch'), { imapPort: mailBed().imapPort, imapTls: 'implicit' }).provider.verify(never));
    expect(err.code).toBe('TLS_MODE_MISMATCH');
    expect(err.hint).toContain('--imap-tls starttls');
  });

  it('rejects a certificate from an unknown CA unless --ca-file or --insecure', async () => {
    const user = newUser('untrusted');
    const err = await failure(open(user, { caFile: null }).provider.verify(never));
    expect(err.code).toBe('TLS_CERT_UNTRUSTED');
    expect(err.hint).toContain('--ca-file');
    expect(err.hint).toContain('--insecure');
    const insecure = await open(user, { caFile: null, insecure: true }).provider.verify(never);
    expect(insecure.checks.every((c) => c.ok)).toBe(true);
  });

  it('reports a certificate for another host name', async () => {
    // The bed's certificate names 127.0.0.1 and localhost; ::ffff:127.0.0.1 reaches the same port under another name.
    const err = await failure(open(newUser('altname'), { host: '::ffff:127.0.0.1' }).provider.verify(never));
    expect(err.code).toBe('TLS_CERT_UNTRUSTED');
    expect(err.message).toContain('is not valid for the name ::ffff:127.0.0.1');
  });

  it('reports a server that never answers as TIMEOUT, pointing at implicit TLS when no greeting came', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    const user = newUser('silent');
    try {
      const plain = await failure(open(user, { imapPort: port, imapTls: 'none', timeoutMs: 500 }).provider.verify(never));
      expect(plain.code).toBe('TIMEOUT');
      expect(plain.message).toBe(`IMAP server 127.0.0.1:${port} sent no greeting within 0.5s`);
      expect(plain.hint).toContain('--imap-tls implicit');
      const handshake = await failure(open(user, { imapPort: port, imapTls: 'implicit', timeoutMs: 500 }).provider.verify(never));
      expect(handshake.code).toBe('TIMEOUT');
      const smtp = await failure(open(user, { smtpPort: port, smtpTls: 'none', timeoutMs: 500 }).provider.verifySend(never));
      expect(smtp.code).toBe('TIMEOUT');
      expect(smtp.hint).toContain('--smtp-tls implicit');
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('reports an unreadable CA file as INVALID_VALUE', async () => {
    const err = await failure(open(newUser('cafile'), { caFile: '/nonexistent/ca.pem' }).provider.verify(never));
    expect(err.code).toBe('INVALID_VALUE');
    expect(err.message).toContain('/nonexistent/ca.pem');
  });

  it('traces the conversation with the login secret masked', async () => {
    const user = newUser('trace');
    const { provider, trace } = open(user, { imapPort: mailBed().imapPort, imapTls: 'none' }, true);
    await provider.verify(never);
    const text = trace.map((t) => `${t.source} ${t.direction} ${t.line}`).join('\n');
    expect(text).toMatch(/imap C \S+ AUTHENTICATE PLAIN/);
    expect(text).toMatch(/imap S \* OK/);
    expect(text).toContain('[REDACTED]');
    expect(text).not.toContain(user.password);
    expect(text).not.toContain(Buffer.from(`\0${user.user}\0${user.password}`).toString('base64'));
    expect(trace.every((t) => t.source === 'imap')).toBe(true);
  });

  it('says nothing at all when tracing is off', async () => {
    const writes: string[] = [];
    const original = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      await open(newUser('quiet')).provider.verify(never);
    } finally {
      process.stdout.write = original;
    }
    expect(writes).toEqual([]);
  });

  it('stops at once when aborted and connects afresh for the next operation', async () => {
    const user = newUser('abort');
    await appendMessage(user, 'INBOX', message({ subject: 'still here' }));
    const { provider } = open(user);
    const controller = new AbortController();
    const pending = provider.list('INBOX', { query: null, page: { limit: 10, page: 1 } }, controller.signal);
    controller.abort();
    const err = await failure(pending);
    expect(err.code).toBe('INTERRUPTED');
    const page = await provider.list('INBOX', { query: null, page: { limit: 10, page: 1 } }, never);
    expect(page.items.map((m) => m.subject)).toEqual(['still here']);
  });
});

describe('wrong password', () => {
  // Its own Dovecot: a failed login puts the client address in Dovecot's auth penalty, which
  // would slow every login of the tests sharing the bed.
  let dovecot: Dovecot;
  beforeAll(async () => {
    dovecot = await startDovecot({ users: 1 });
  });
  afterAll(async () => {
    await dovecot?.stop();
  });

  it('is reported as AUTH_FAILED without revealing it', async () => {
    const user = dovecot.users[0]!;
    const password = `${user.password}-wrong`;
    const credentials = { kind: 'password' as const, user: user.user, password };
    const err = await failure(open(user, { imapPort: dovecot.imapsPort, caFile: dovecot.caFile, credentials }).provider.verify(never));
    expect(err.code).toBe('AUTH_FAILED');
    expect(err.exitCode).toBe(3);
    expect(err.message).toBe(`IMAP server 127.0.0.1:${dovecot.imapsPort} rejected the login for ${user.user}: [AUTHENTICATIONFAILED] Authentication failed.`);
    expect(`${err.message} ${err.hint}`).not.toContain(password);
    expect(err.hint).toMatch(/mailops connect/);
  });
});

describe('folders', () => {
  it('lists every folder with its role, counts and UTF-8 path', async () => {
    const user = newUser('folders');
    await appendMessage(user, 'INBOX', message({ subject: 'one' }));
    await appendMessage(user, 'INBOX', message({ subject: 'two' }), ['\\Seen']);
    await appendMessage(user, 'INBOX', message({ subject: 'three' }));
    await createFolder(user, 'Starred');
    await createFolder(user, 'Projekte/Übersicht');
    await createFolder(user, 'Projekte/Archive');

    const folders = await open(user).provider.listFolders(never);
    const byPath = new Map(folders.map((f) => [f.path, f]));
    expect(byPath.get('INBOX')).toEqual({
      id: 'INBOX', path: 'INBOX', name: 'INBOX', delimiter: '/', role: 'inbox', unreadCount: 2, totalCount: 3, selectable: true,
    });
    const roles = Object.fromEntries(folders.filter((f) => f.role).map((f) => [f.path, f.role]));
    expect(roles).toEqual({
      INBOX: 'inbox', Sent: 'sent', Drafts: 'drafts', Trash: 'trash', Junk: 'junk', Archive: 'archive',
      // No folder carries \Flagged, so the well-known name gives the role.
      Starred: 'flagged',
    });
    expect(byPath.get('Projekte/Übersicht')).toMatchObject({ name: 'Übersicht', role: null, totalCount: 0, unreadCount: 0, selectable: true });
    // A nested "Archive" is not the archive.
    expect(byPath.get('Projekte/Archive')?.role).toBeNull();
  });

  it('shows a parent that holds only folders as not selectable, without counts', async () => {
    const user = newUser('noselect');
    await createFolder(user, 'Kunden/Ärzte');
    const folders = await open(user).provider.listFolders(never);
    expect(folders.find((f) => f.path === 'Kunden')).toMatchObject({ selectable: false, unreadCount: null, totalCount: null });
    expect(folders.find((f) => f.path === 'Kunden/Ärzte')).toMatchObject({ selectable: true, totalCount: 0 });
  });
});

describe('list', () => {
  let user: MailUser;
  let uids: number[];
  beforeAll(async () => {
    user = newUser('list');
    uids = [];
    for (let i = 1; i <= 5; i++) {
      uids.push(await appendMessage(user, 'INBOX', message({ subject: i === 3 ? 'Invoice March' : `Note ${i}`, attachment: i === 2 }), i === 4 ? ['\\Seen'] : []));
    }
  });

  it('pages newest first with total and has_next', async () => {
    const { provider } = open(user);
    const first = await provider.list('INBOX', { query: null, page: { limit: 2, page: 1 } }, never);
    expect(first.items.map((m) => m.subject)).toEqual(['Note 5', 'Note 4']);
    expect(first).toMatchObject({ total: 5, page: 1, pageSize: 2, hasNext: true });
    const last = await provider.list('INBOX', { query: null, page: { limit: 2, page: 3 } }, never);
    expect(last.items.map((m) => m.subject)).toEqual(['Note 1']);
    expect(last).toMatchObject({ total: 5, page: 3, hasNext: false });
    const beyond = await provider.list('INBOX', { query: null, page: { limit: 2, page: 4 } }, never);
    expect(beyond).toMatchObject({ items: [], total: 5, hasNext: false });
  });

  it('maps envelopes: addresses, date, size, flags, attachments and ids', async () => {
    const page = await open(user).provider.list('INBOX', { query: null, page: { limit: 10, page: 1 } }, never);
    const byUid = new Map(page.items.map((m) => [m.uid, m]));
    const withAttachment = byUid.get(uids[1]!)!;
    expect(withAttachment).toMatchObject({
      subject: 'Note 2',
      from: { name: 'Ann Sender', address: 'ann@example.test' },
      to: [{ name: 'Bob', address: 'bob@example.test' }, { name: '', address: 'carol@example.test' }],
      cc: [],
      hasAttachments: true,
      flags: { seen: false, flagged: false, answered: false, draft: false, keywords: [] },
    });
    expect(withAttachment.date?.toISOString()).toBe('2025-01-09T10:30:00.000Z');
    expect(withAttachment.messageId).toMatch(/^<m\d+\.\d+@mailops\.test>$/);
    expect(withAttachment.size).toBe((await fetchSource(user, 'INBOX', uids[1]!))!.length);
    expect(byUid.get(uids[0]!)!.hasAttachments).toBe(false);
    expect(byUid.get(uids[3]!)!.flags).toEqual({ seen: true, flagged: false, answered: false, draft: false, keywords: [] });
    const ref = withAttachment.ref;
    expect(ref.folder).toBe('INBOX');
    expect(ref.id).toMatch(/^[A-Za-z0-9_-]+\.\d+\.\d+$/);
    expect(decodeMessageId(ref.id)).toEqual({ folder: 'INBOX', uidValidity: expect.stringMatching(/^[1-9]\d*$/), uid: uids[1] });
  });

  it('filters with a query compiled to IMAP SEARCH', async () => {
    const { provider } = open(user);
    const invoices = await provider.list('INBOX', { query: { kind: 'text', field: 'subject', value: 'invoice' }, page: { limit: 10, page: 1 } }, never);
    expect(invoices.items.map((m) => m.subject)).toEqual(['Invoice March']);
    expect(invoices.total).toBe(1);
    const unread = await provider.list('INBOX', { query: { kind: 'flag', flag: 'unread' }, page: { limit: 10, page: 1 } }, never);
    expect(unread.items.map((m) => m.subject)).toEqual(['Note 5', 'Invoice March', 'Note 2', 'Note 1']);
  });

  it('explains the query it would run, with the folder, after asking the server what it supports', async () => {
    const { provider } = open(user);
    expect(await provider.explain!({ kind: 'flag', flag: 'unread' }, 'Projekte/"Q1"', never)).toBe(
      'EXAMINE "Projekte/\\"Q1\\""\nUID SORT (ARRIVAL) UTF-8 UNSEEN\n# read from the end: newest first by arrival, the last added first among messages of the same second',
    );
  });

  it('reports a missing folder as FOLDER_NOT_FOUND naming it', async () => {
    const err = await failure(open(user).provider.list('Nowhere', { query: null, page: { limit: 10, page: 1 } }, never));
    expect(err.code).toBe('FOLDER_NOT_FOUND');
    expect(err.message).toBe('no folder named "Nowhere"');
  });
});

describe('fetchMessage', () => {
  it('returns the stored bytes exactly; peek leaves \\Seen unset and reading sets it', async () => {
    const user = newUser('raw');
    const raw = message({ subject: 'Grüße', body: 'Zeile eins\r\n.leading dot\r\n\r\n  trailing spaces  \r\n\tTab und Ümlaut' });
    const uid = await appendMessage(user, 'INBOX', raw);
    const { provider } = open(user);
    const ref = await refFor(provider, 'INBOX', uid);

    const peeked = (await provider.fetchMessage(ref, { peek: true }, never)).raw;
    expect(peeked.equals(raw)).toBe(true);
    expect(await flagsOf(user, 'INBOX', uid)).toEqual([]);

    const read = (await provider.fetchMessage(ref, { peek: false }, never)).raw;
    expect(read.equals(raw)).toBe(true);
    expect(await flagsOf(user, 'INBOX', uid)).toEqual(['\\Seen']);
  });

  it('accepts a bare UID in the given folder', async () => {
    const user = newUser('bare');
    const raw = message({ subject: 'bare uid' });
    const uid = await appendMessage(user, 'Archive', raw);
    const { provider } = open(user);
    const fetched = (await provider.fetchMessage(imapIds.parse(String(uid), 'Archive')!, { peek: true }, never)).raw;
    expect(fetched.equals(raw)).toBe(true);
  });

  it('reports a missing UID, a stale id and a malformed id as MESSAGE_NOT_FOUND', async () => {
    const user = newUser('missing');
    const uid = await appendMessage(user, 'INBOX', message({ subject: 'present' }));
    const { provider } = open(user);
    const ref = await refFor(provider, 'INBOX', uid);

    const { uidValidity } = keyOf(ref);
    const gone = await failure(provider.fetchMessage({ ...ref, id: encodeMessageId({ folder: 'INBOX', uidValidity: uidValidity!, uid: uid + 100 }) }, { peek: true }, never));
    expect(gone.code).toBe('MESSAGE_NOT_FOUND');
    expect(gone.exitCode).toBe(5);

    const staleId = encodeMessageId({ folder: 'INBOX', uidValidity: String(Number(uidValidity) + 1), uid });
    const stale = await failure(provider.fetchMessage(imapIds.parse(staleId, 'INBOX')!, { peek: true }, never));
    expect(stale.code).toBe('MESSAGE_NOT_FOUND');
    expect(stale.message).toContain('UIDVALIDITY');

    expect(imapIds.parse('not-an-id!', 'INBOX')).toBeNull();
    expect(() => resolveIds(imapIds, ['not-an-id!'], 'INBOX')).toThrow(expect.objectContaining({ code: 'MESSAGE_NOT_FOUND', message: 'no message with id not-an-id!', hint: 'ids come from mailops ls or search' }));
    const folder = await failure(provider.fetchMessage({ id: '1', folder: 'Nowhere' }, { peek: true }, never));
    expect(folder.code).toBe('FOLDER_NOT_FOUND');
  });
});

describe('message ids', () => {
  it('round-trip folder, UIDVALIDITY and UID, non-ASCII folders included, and are shell-safe', () => {
    for (const folder of ['INBOX', 'Entwürfe/Übersicht', '日本語', 'a b/"quoted"&more', '[Gmail]/All Mail']) {
      const key = { folder, uidValidity: '4294967295', uid: 4294967295 };
      const id = encodeMessageId(key);
      expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]*\.\d+\.\d+$/);
      expect(decodeMessageId(id)).toEqual(key);
      // The id names its own folder, whatever --folder says.
      expect(imapIds.parse(id, 'INBOX')).toEqual({ id, folder });
      expect(keyOf({ id, folder: 'INBOX' })).toEqual(key);
    }
  });

  it('treat a bare positive number as a UID in the folder, and refuse anything else', () => {
    expect(imapIds.parse('42', 'Archive')).toEqual({ id: '42', folder: 'Archive' });
    expect(keyOf({ id: '42', folder: 'Archive' })).toEqual({ folder: 'Archive', uid: 42, uidValidity: null });
    for (const bad of ['0', '-3', '4294967296', 'SU5CT1g.0.1', 'SU5CT1g.1', 'SU5CT1g=.1.1', '', 'x.y.z']) {
      expect(imapIds.parse(bad, 'INBOX')).toBeNull();
      expect(() => resolveIds(imapIds, [bad], 'INBOX')).toThrow(expect.objectContaining({ code: 'MESSAGE_NOT_FOUND' }));
    }
  });

  it('find messages in a non-ASCII folder', async () => {
    const user = newUser('utf8-folder');
    await createFolder(user, 'Entwürfe/Ärger');
    const raw = message({ subject: 'im Unterordner' });
    const uid = await appendMessage(user, 'Entwürfe/Ärger', raw);
    const { provider } = open(user);
    const ref = await refFor(provider, 'Entwürfe/Ärger', uid);
    expect(decodeMessageId(ref.id)?.folder).toBe('Entwürfe/Ärger');
    const fetched = (await provider.fetchMessage(imapIds.parse(ref.id, 'INBOX')!, { peek: true }, never)).raw;
    expect(fetched.equals(raw)).toBe(true);
  });
});

describe('changing messages', () => {
  it('setFlags adds and removes flags and counts only messages still there', async () => {
    const user = newUser('flags');
    const a = await appendMessage(user, 'INBOX', message({ subject: 'a' }), ['\\Seen']);
    const b = await appendMessage(user, 'INBOX', message({ subject: 'b' }));
    const { provider } = open(user);
    const gone = { id: '999', folder: 'INBOX' };
    const refs = [await refFor(provider, 'INBOX', a), await refFor(provider, 'INBOX', b), gone];
    const changed = await provider.setFlags(refs, { flagged: true, seen: false }, never);
    expect(changed).toEqual({ processed: 2, missing: [gone] });
    expect(await flagsOf(user, 'INBOX', a)).toEqual(['\\Flagged']);
    expect(await flagsOf(user, 'INBOX', b)).toEqual(['\\Flagged']);
  });

  it('move uses MOVE, counts what moved and leaves the rest', async () => {
    const user = newUser('move');
    const a = await appendMessage(user, 'INBOX', message({ subject: 'a' }));
    const b = await appendMessage(user, 'INBOX', message({ subject: 'b' }));
    const c = await appendMessage(user, 'INBOX', message({ subject: 'c' }));
    const { provider, trace } = open(user, {}, true);
    const refs = [await refFor(provider, 'INBOX', a), await refFor(provider, 'INBOX', c)];
    expect(await provider.move!(refs, 'Archive', never)).toEqual({ processed: 2, missing: [] });
    expect(await listUids(user, 'INBOX')).toEqual([b]);
    const archived = await open(user).provider.list('Archive', { query: null, page: { limit: 10, page: 1 } }, never);
    expect(archived.items.map((m) => m.subject)).toEqual(['c', 'a']);
    expect(trace.some((t) => t.direction === 'C' && /^\S+ UID MOVE /.test(t.line))).toBe(true);
  });

  it('move to a missing folder fails with FOLDER_NOT_FOUND before touching anything', async () => {
    const user = newUser('move-missing');
    const a = await appendMessage(user, 'INBOX', message({ subject: 'a' }));
    const { provider } = open(user);
    const err = await failure(provider.move!([await refFor(provider, 'INBOX', a)], 'Nowhere', never));
    expect(err.code).toBe('FOLDER_NOT_FOUND');
    expect(err.message).toBe('no folder named "Nowhere"');
    expect(await listUids(user, 'INBOX')).toEqual([a]);
  });

  it('deleteForever expunges exactly the given messages', async () => {
    const user = newUser('delete');
    const a = await appendMessage(user, 'INBOX', message({ subject: 'a' }));
    const b = await appendMessage(user, 'INBOX', message({ subject: 'b' }));
    // Marked deleted by another client and not selected: it must survive.
    const other = await appendMessage(user, 'INBOX', message({ subject: 'other' }), ['\\Deleted']);
    const { provider } = open(user);
    expect(await provider.deleteForever!([await refFor(provider, 'INBOX', a), await refFor(provider, 'INBOX', b)], never)).toEqual({ processed: 2, missing: [] });
    expect(await listUids(user, 'INBOX')).toEqual([other]);
  });

  it('append stores the message with its flags', async () => {
    const user = newUser('append');
    const raw = message({ subject: 'sent copy' });
    const { provider } = open(user);
    await provider.append!('Sent', raw, { seen: true }, never);
    const [uid] = await listUids(user, 'Sent');
    expect((await fetchSource(user, 'Sent', uid!))!.equals(raw)).toBe(true);
    expect(await flagsOf(user, 'Sent', uid!)).toEqual(['\\Seen']);
    const err = await failure(provider.append!('Nowhere', raw, {}, never));
    expect(err.code).toBe('FOLDER_NOT_FOUND');
  });
});

describe('servers without MOVE', () => {
  let withUidplus: Dovecot;
  let withoutUidplus: Dovecot;
  beforeAll(async () => {
    [withUidplus, withoutUidplus] = await Promise.all([
      startDovecot({ imapCapability: 'IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE SPECIAL-USE UIDPLUS' }),
      startDovecot({ imapCapability: 'IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE SPECIAL-USE' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([withUidplus?.stop(), withoutUidplus?.stop()]);
  });

  function openOn(dovecot: Dovecot, user: MailUser) {
    return open(user, { imapPort: dovecot.imapsPort, caFile: dovecot.caFile }, true);
  }
  const server = (dovecot: Dovecot) => ({ host: dovecot.host, imapsPort: dovecot.imapsPort, caFile: dovecot.caFile });

  it('move falls back to COPY and UID EXPUNGE, sparing other \\Deleted messages', async () => {
    const user = withUidplus.addUser('fallback');
    const append = (subject: string, flags: string[] = []) =>
      withImap(user, async (client) => (await client.append('INBOX', message({ subject }), flags)) as { uid: number }, server(withUidplus));
    const a = (await append('a')).uid;
    const keep = (await append('keep')).uid;
    const deletedElsewhere = (await append('deleted elsewhere', ['\\Deleted'])).uid;
    const { provider, trace } = openOn(withUidplus, user);
    const refs = [await refFor(provider, 'INBOX', a)];
    expect(await provider.move!(refs, 'Archive', never)).toEqual({ processed: 1, missing: [] });

    const left = await withImap(user, async (client) => {
      const lock = await client.getMailboxLock('INBOX', { readOnly: true });
      try {
        return ((await client.search({ all: true }, { uid: true })) || []).sort((x, y) => x - y);
      } finally {
        lock.release();
      }
    }, server(withUidplus));
    expect(left).toEqual([keep, deletedElsewhere]);
    const commands = trace.filter((t) => t.direction === 'C').map((t) => t.line.replace(/^\S+ /, ''));
    expect(commands).toContain(`UID COPY ${a} Archive`);
    expect(commands).toContain(`UID EXPUNGE ${a}`);
    expect(commands.some((c) => /^(UID )?MOVE\b/.test(c) || c === 'EXPUNGE')).toBe(false);
    const archived = await provider.list('Archive', { query: null, page: { limit: 10, page: 1 } }, never);
    expect(archived.items.map((m) => m.subject)).toEqual(['a']);
  });

  it('without UIDPLUS, move and deleteForever refuse with UNSUPPORTED and change nothing', async () => {
    const user = withoutUidplus.addUser('nouidplus');
    await withImap(user, (client) => client.append('INBOX', message({ subject: 'x' })), server(withoutUidplus));
    const { provider } = openOn(withoutUidplus, user);
    const page = await provider.list('INBOX', { query: null, page: { limit: 10, page: 1 } }, never);
    const refs = page.items.map((m) => m.ref);
    expect(refs).toHaveLength(1);
    for (const attempt of [provider.move!(refs, 'Archive', never), provider.deleteForever!(refs, never)]) {
      const err = await failure(attempt);
      expect(err.code).toBe('UNSUPPORTED');
      expect(err.message).toContain('UIDPLUS');
    }
    const after = await provider.list('INBOX', { query: null, page: { limit: 10, page: 1 } }, never);
    expect(after.items.map((m) => m.ref.id)).toEqual(refs.map((r) => r.id));
    const archive = await provider.list('Archive', { query: null, page: { limit: 10, page: 1 } }, never);
    expect(archive.total).toBe(0);
  });
});

describe('SMTP', () => {
  it('verifySend logs in after STARTTLS and reports the EHLO keywords', async () => {
    const user = newUser('smtp-verify');
    const result = await open(user).provider.verifySend(never);
    expect(result.checks.map((c) => [c.step, c.ok])).toEqual([['connect', true], ['login', true], ['rset', true]]);
    expect(result.checks[0]!.detail).toMatch(/TLSv1\.[23]$/);
    // The keywords of the EHLO after STARTTLS, which offers AUTH and no longer STARTTLS.
    expect(result.capabilities).toEqual(expect.arrayContaining(['PIPELINING', 'AUTH PLAIN LOGIN']));
    expect(result.capabilities).not.toContain('STARTTLS');
  });

  it('verifySend works with implicit TLS and without TLS', async () => {
    const user = newUser('smtp-modes');
    const bed = mailBed();
    const implicit = await open(user, { smtpPort: bed.smtpsPort, smtpTls: 'implicit' }).provider.verifySend(never);
    expect(implicit.checks[1]!.detail).toBe(`logged in as ${user.user}`);
    const plain = await open(user, { smtpPort: bed.smtpPlainPort, smtpTls: 'none' }).provider.verifySend(never);
    expect(plain.checks[0]!.detail).toMatch(/, no TLS$/);
  });

  it('reports SMTP failures precisely: password, refused port, TLS mismatch, untrusted CA', async () => {
    const user = newUser('smtp-errors');
    const bed = mailBed();
    const wrong = `${user.password}x`;
    const auth = await failure(open(user, { credentials: { kind: 'password', user: user.user, password: wrong } }).provider.verifySend(never));
    expect(auth.code).toBe('AUTH_FAILED');
    expect(auth.message).toContain('535');
    expect(`${auth.message} ${auth.hint}`).not.toContain(wrong);

    const refused = await failure(open(user, { smtpPort: await freePort() }).provider.verifySend(never));
    expect(refused.code).toBe('CONNECTION_REFUSED');
    expect(refused.message).toMatch(/^SMTP server 127\.0\.0\.1:\d+ refused the connection$/);

    const mismatch = await failure(open(user, { smtpPort: bed.smtpPlainPort, smtpTls: 'implicit' }).provider.verifySend(never));
    expect(mismatch.code).toBe('TLS_MODE_MISMATCH');
    expect(mismatch.hint).toContain('--smtp-tls starttls');

    const untrusted = await failure(open(user, { caFile: null }).provider.verifySend(never));
    expect(untrusted.code).toBe('TLS_CERT_UNTRUSTED');
  });

  it('sends the raw message as is and it arrives in the INBOX', async () => {
    const sender = newUser('sender');
    const rcpt = newUser('rcpt');
    const raw = message({ subject: 'Über SMTP', from: sender.email, to: rcpt.email, body: 'Hallo\r\n.\r\n..zwei Punkte' });
    const { provider, trace } = open(sender, {}, true);
    const receipt = await provider.send({ raw, envelope: { from: sender.email, to: [rcpt.email, 'someone@relay-denied.test'] }, messageId: '<x@mailops.test>' }, never);
    expect(receipt).toEqual({ messageId: '<x@mailops.test>', accepted: [rcpt.email], rejected: ['someone@relay-denied.test'], providerSavedCopy: false });
    const transcript = trace.map((t) => t.line).join('\n');
    expect(transcript).toMatch(/^AUTH PLAIN \[REDACTED\]$/m);
    expect(transcript).not.toContain(sender.password);
    expect(transcript).not.toContain(Buffer.from(`\0${sender.user}\0${sender.password}`).toString('base64'));

    const inbox = await open(rcpt).provider.list('INBOX', { query: null, page: { limit: 10, page: 1 } }, never);
    expect(inbox.items.map((m) => m.subject)).toEqual(['Über SMTP']);
    const delivered = (await open(rcpt).provider.fetchMessage(inbox.items[0]!.ref, { peek: true }, never)).raw;
    // LMTP delivery prepends Return-Path and Received; the message itself follows unchanged.
    expect(delivered.subarray(delivered.length - raw.length).equals(raw)).toBe(true);
  });

  it('fails with SEND_FAILED when every recipient is refused', async () => {
    const sender = newUser('sender-all-rejected');
    const err = await failure(
      open(sender).provider.send({ raw: message({ subject: 'nobody' }), envelope: { from: sender.email, to: ['a@relay-denied.test'] }, messageId: '<y@mailops.test>' }, never),
    );
    expect(err.code).toBe('SEND_FAILED');
    expect(err.message).toContain('550');
  });
});

describe('untrusted server certificates', () => {
  let expired: Dovecot;
  beforeAll(async () => {
    const ca = await makeCa(`${mailBed().tmpDir}/expired-ca-${process.pid}`);
    const cert = await makeServerCert(ca, {
      cn: '127.0.0.1',
      notBefore: new Date(Date.now() - 10 * 86400e3),
      notAfter: new Date(Date.now() - 86400e3),
    });
    expired = await startDovecot({ ca, cert, users: 1 });
  });
  afterAll(async () => {
    await expired?.stop();
  });

  it('reports an expired certificate with its own message', async () => {
    const user = expired.users[0]!;
    const err = await failure(open(user, { imapPort: expired.imapsPort, caFile: expired.caFile }).provider.verify(never));
    expect(err.code).toBe('TLS_CERT_UNTRUSTED');
    expect(err.message).toContain('is expired');
  });
});
