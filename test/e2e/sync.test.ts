// mailops sync against the bed's Dovecot: incremental runs, changes made by another client,
// UIDVALIDITY changes, kill -9 and resume, locking, a dropped connection, and --on-new.
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mailBed, newUser } from '../support/bed.js';
import { makeHome, runCli, startCli } from '../support/cli.js';
import { appendMessage, createFolder, listUids, withImap } from '../support/mailbox.js';
import { openDatabase } from '../../src/store/db.js';
import { flagNames } from '../../src/cli/output.js';
import { cachedRows, connectedAccount, parseJson, serverFlags, textMessage, type Account } from './helpers.js';

interface Summary {
  name: string;
  status: string;
  folders: number;
  new: number;
  updated: number;
  deleted: number;
  bytes: number;
  error: string | null;
}

/** Runs `mailops sync --json`; fails the test unless it exits with `expectedCode`. */
async function sync(account: Account, args: string[] = [], expectedCode = 0): Promise<{ code: number | null; summary: Summary; stderr: string }> {
  const result = await account.cli(['sync', '--json', ...args], { timeoutMs: 120_000 });
  expect(result.code, result.stderr).toBe(expectedCode);
  const summary = parseJson<{ accounts: Summary[] }>(result).accounts[0]!;
  return { code: result.code, summary, stderr: result.stderr };
}

/** What the cache holds for a folder: uid → flags (as JSON prints them), straight from SQLite. */
function cached(account: Account, folder: string): Map<number, string[]> {
  const db = openDatabase(account.home);
  try {
    const rows = db
      .prepare(
        `SELECT f.uid, m.seen, m.flagged, m.answered, m.draft, m.keywords_json FROM memberships f JOIN messages m ON m.id = f.message
         WHERE f.account = ? AND f.folder = ? ORDER BY f.uid`,
      )
      .all('main', folder) as Array<{ uid: number; seen: number; flagged: number; answered: number; draft: number; keywords_json: string }>;
    return new Map(rows.map((r) => [r.uid, flagNames({ seen: r.seen === 1, flagged: r.flagged === 1, answered: r.answered === 1, draft: r.draft === 1, keywords: JSON.parse(r.keywords_json) as string[] })]));
  } finally {
    db.close();
  }
}

function bigMessage(i: number, kb: number): string {
  const line = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor. '.repeat(1);
  return textMessage({ subject: `Bulk ${i}`, body: `number ${i}\r\n` + `${line}\r\n`.repeat(Math.ceil((kb * 1024) / (line.length + 2))) });
}

async function seed(account: Account, folder: string, count: number, kb = 2): Promise<number[]> {
  return withImap(account.user, async (client) => {
    const uids: number[] = [];
    for (let i = 0; i < count; i++) {
      const result = await client.append(folder, bigMessage(i, kb));
      if (!result || result.uid === undefined) throw new Error('no APPENDUID');
      uids.push(result.uid);
    }
    return uids;
  });
}

describe('sync', () => {
  it('first sync fetches everything; a second run with no change fetches nothing', async () => {
    const account = await connectedAccount('sync-first');
    const inbox = await seed(account, 'INBOX', 12);
    await createFolder(account.user, 'Projekte/Übersicht');
    await appendMessage(account.user, 'Projekte/Übersicht', textMessage({ subject: 'nested' }), ['\\Seen']);

    const first = await sync(account);
    expect(first.summary).toMatchObject({ name: 'main', status: 'ok', new: 13, deleted: 0, error: null });
    expect(first.summary.bytes).toBeGreaterThan(12 * 2000);
    expect([...cached(account, 'INBOX').keys()]).toEqual(inbox);
    expect([...cached(account, 'Projekte/Übersicht').values()]).toEqual([['\\Seen']]);

    const second = await sync(account);
    expect(second.summary).toMatchObject({ status: 'ok', new: 0, updated: 0, deleted: 0, bytes: 0 });

    // status shows when it last synced.
    const status = parseJson((await account.cli(['status', '--offline', '--json'])));
    expect(status.accounts[0].last_sync_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(status.accounts[0].last_error).toBeNull();
  });

  it('picks up new mail, flag changes and expunges made by another client', async () => {
    const account = await connectedAccount('sync-changes');
    const uids = await seed(account, 'INBOX', 6);
    await sync(account);

    const added = await seed(account, 'INBOX', 2);
    await withImap(account.user, async (client) => {
      await client.mailboxOpen('INBOX');
      await client.messageFlagsAdd(`${uids[0]},${uids[1]}`, ['\\Seen', '\\Flagged'], { uid: true });
      await client.messageDelete(`${uids[2]}`, { uid: true });
    });
    const next = await sync(account);
    expect(next.summary).toMatchObject({ status: 'ok', new: 2, updated: 2, deleted: 1 });
    const cache = cached(account, 'INBOX');
    expect([...cache.keys()]).toEqual([uids[0], uids[1], uids[3], uids[4], uids[5], ...added]);
    expect(cache.get(uids[0]!)!.sort()).toEqual(['\\Flagged', '\\Seen']);
    expect(cache.get(uids[3]!)).toEqual([]);
    // The cache agrees with the server.
    expect([...cache.keys()]).toEqual(await listUids(account.user, 'INBOX'));
  });

  it('reflects folders renamed and deleted on the server, and a UIDVALIDITY change drops stale UIDs', async () => {
    const account = await connectedAccount('sync-folders');
    await createFolder(account.user, 'Old');
    await seed(account, 'Old', 2);
    await createFolder(account.user, 'Doomed');
    await seed(account, 'Doomed', 1);
    await createFolder(account.user, 'Reborn');
    const before = await seed(account, 'Reborn', 3);
    await sync(account);

    await withImap(account.user, async (client) => {
      await client.mailboxRename('Old', 'New');
      await client.mailboxDelete('Doomed');
      await client.mailboxDelete('Reborn');
      await client.mailboxCreate('Reborn');
    });
    const after = await seed(account, 'Reborn', 1);
    await sync(account);
    expect(cached(account, 'Old').size).toBe(0);
    expect(cached(account, 'Doomed').size).toBe(0);
    expect(cached(account, 'New').size).toBe(2);
    // Only the message now on the server: the old UIDs are gone even where numbers repeat.
    expect([...cached(account, 'Reborn').keys()]).toEqual(after);
    expect(after[0]).toBeLessThanOrEqual(before[before.length - 1]!);
    const folders = parseJson((await account.cli(['folders', '--offline', '--json']))).folders.map((f: { path: string }) => f.path);
    expect(folders).toContain('New');
    expect(folders).not.toContain('Old');
  });

  // Each way of storing a first sync: on the main thread with SQLite's own checkpoints, on the
  // second-thread writer, and on the main thread with the WAL checkpointed on a second thread.
  it.each([
    { writer: 'main', checkpoint: 'inline' },
    { writer: 'thread', checkpoint: 'inline' },
    { writer: 'main', checkpoint: 'thread' },
  ])('kill -9 in the middle loses nothing and duplicates nothing; the next run completes (MAILOPS_SYNC_WRITER=$writer, MAILOPS_SYNC_CHECKPOINT=$checkpoint)', async ({ writer, checkpoint }) => {
    const account = await connectedAccount(`sync-kill-${writer}-${checkpoint}`);
    const uids = await seed(account, 'INBOX', 400, 20);
    const env = { MAILOPS_PASSPHRASE: 'correct horse battery staple', MAILOPS_SYNC_WRITER: writer, MAILOPS_SYNC_CHECKPOINT: checkpoint };
    const running = startCli(['sync', '--json'], { home: account.home, env, timeoutMs: 120_000 });
    // Kill it once some batches have been committed.
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && cachedCount(account) < 150) await new Promise((r) => setTimeout(r, 20));
    running.child.kill('SIGKILL');
    const killed = await running.result;
    expect(killed.signal).toBe('SIGKILL');
    const partial = cachedCount(account);
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(400);

    // The lease of the dead process is recovered at once (same host, pid gone).
    const resumedRun = await account.cli(['sync', '--json'], { env, timeoutMs: 120_000 });
    expect(resumedRun.code, resumedRun.stderr).toBe(0);
    const resumed = { summary: parseJson<{ accounts: Summary[] }>(resumedRun).accounts[0]! };
    expect(resumed.summary.new).toBe(400 - partial);
    expect([...cached(account, 'INBOX').keys()]).toEqual(uids);
    const db = openDatabase(account.home);
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.prepare('SELECT count(*) FROM messages').pluck().get()).toBe(400);
      expect(db.prepare("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'number'").pluck().get()).toBe(400);
    } finally {
      db.close();
    }
  }, 180_000);

  it('a second sync of the same account exits 75 at once, or waits with --wait', async () => {
    const account = await connectedAccount('sync-lock');
    await seed(account, 'INBOX', 1);
    const env = { MAILOPS_PASSPHRASE: 'correct horse battery staple' };
    // The lease is held until --on-new is done: this hook holds the first sync until the test says go.
    const started = join(account.home, 'hook-started');
    const go = join(account.home, 'go');
    const hook = `touch ${started}; while [ ! -e ${go} ]; do sleep 0.05; done; cat > /dev/null`;
    const first = startCli(['sync', '--json', '--on-new', hook], { home: account.home, env, timeoutMs: 120_000 });
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !existsSync(started)) await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(started)).toBe(true);

    const askedAt = Date.now();
    const busy = await account.cli(['sync', '--json']);
    expect(busy.code).toBe(75);
    expect(Date.now() - askedAt).toBeLessThan(10_000);
    expect(parseJson(busy).accounts[0]).toMatchObject({ status: 'busy' });

    const waiting = startCli(['sync', '--json', '--wait'], { home: account.home, env, timeoutMs: 120_000 });
    let waitedOut = false;
    void waiting.result.then(() => (waitedOut = true));
    // Still waiting while the first holds the lease.
    await new Promise((r) => setTimeout(r, 1500));
    expect(waitedOut).toBe(false);
    writeFileSync(go, '');
    expect((await first.result).code).toBe(0);
    const waited = await waiting.result;
    expect(waited.code).toBe(0);
    expect(parseJson(waited).accounts[0]).toMatchObject({ status: 'ok' });
  }, 180_000);

  it('survives the server closing the connection mid-fetch: it reconnects and finishes', async () => {
    const account = await connectedAccount('sync-drop');
    const uids = await seed(account, 'INBOX', 60, 10);
    const proxy = await droppingProxy(mailBed().imapsPort, 200_000);
    try {
      // The account reaches Dovecot through the proxy (which passes everything until armed).
      const repaired = await account.cli(['connect', 'main', '--imap-port', String(proxy.port)]);
      expect(repaired.code).toBe(0);
      proxy.armed = true;
      const synced = await sync(account);
      expect(synced.stderr).toMatch(/retrying/);
      expect(proxy.dropped).toBe(1);
      expect([...cached(account, 'INBOX').keys()]).toEqual(uids);
    } finally {
      proxy.server.close();
    }
  }, 180_000);
});

describe('sync, connected ahead', () => {
  it('connects while the password is being had: the handshakes do not wait for the password command', async () => {
    const user = newUser('sync-ahead');
    const home = makeHome();
    const flag = join(home, 'connected');
    const seen = join(home, 'connected-before-the-password');
    const secret = join(home, 'pw.txt');
    writeFileSync(secret, `${user.password}\n`, { mode: 0o600 });
    await withImap(user, (client) => client.append('INBOX', textMessage({ subject: 'ahead' })));
    const proxy = await noticingProxy(mailBed().imapsPort, flag);
    try {
      // The password command waits (5 s at most) for a connection to reach the server, and notes
      // whether one did before it gave the password.
      const command = `i=0; while [ ! -e '${flag}' ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; [ -e '${flag}' ] && touch '${seen}'; cat '${secret}'`;
      const flags = serverFlags(user).map((flag, i, all) => (all[i - 1] === '--imap-port' ? String(proxy.port) : flag));
      writeFileSync(flag, ''); // connect's own login test has nothing to wait for
      const connected = await runCli(['connect', 'main', ...flags, '--password-cmd', command], { home });
      expect(connected.code, connected.stderr).toBe(0);
      rmSync(flag);
      rmSync(seen, { force: true });

      const result = await runCli(['sync', '--json'], { home });
      expect(result.code, result.stderr).toBe(0);
      expect(parseJson<{ accounts: Summary[] }>(result).accounts[0]).toMatchObject({ status: 'ok', new: 1 });
      expect(existsSync(seen)).toBe(true);
      // One connection for the sync: the one made ahead was the one logged in over.
      expect(proxy.connections).toBe(2);
    } finally {
      proxy.server.close();
    }
  });
});

describe('sync --on-new', () => {
  it('hands each new message over once; a failure is retried on the next run, never a success', async () => {
    const account = await connectedAccount('ingest');
    await appendMessage(account.user, 'INBOX', textMessage({ subject: 'first', messageId: '<first@x>' }));
    await appendMessage(account.user, 'INBOX', textMessage({ subject: 'poison', messageId: '<poison@x>' }));
    await appendMessage(account.user, 'INBOX', textMessage({ subject: 'read already', messageId: '<read@x>' }), ['\\Seen']);
    const log = join(account.home, 'handed.log');
    const failFlag = join(account.home, 'fail-poison');
    writeFileSync(failFlag, '');
    // The hook logs what it got; it fails for "poison" while the flag file exists.
    const hook = `subject=$(grep -m1 '^Subject:' | tr -d '\\r' | cut -d' ' -f2-); echo "$MAILOPS_FOLDER $MAILOPS_UID $MAILOPS_MESSAGE_ID $subject" >> ${log}; if [ "$MAILOPS_MESSAGE_ID" = "<poison@x>" ] && [ -e ${failFlag} ]; then exit 3; fi`;

    const first = await account.cli(['sync', '--on-new', hook, '--unread-only', '--mark-read', '--json']);
    expect(first.code).toBe(1);
    expect(parseJson(first).accounts[0]).toMatchObject({ status: 'ok', processed: 1, process_failed: 1 });
    expect(readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split(' ').slice(2).join(' '))).toEqual(['<first@x> first', '<poison@x> poison']);
    // Processed and marked read on the server; the failed one stays unread.
    const flags = await withImap(account.user, async (client) => {
      await client.mailboxOpen('INBOX');
      return (await client.fetchAll('1:*', { flags: true, envelope: true })).map((m) => [m.envelope?.subject, [...(m.flags ?? [])].includes('\\Seen')]);
    });
    expect(flags).toEqual([['first', true], ['poison', false], ['read already', true]]);

    // Next run: the poison message is handed over again and now succeeds; the first is not repeated.
    const { rmSync } = await import('node:fs');
    rmSync(failFlag);
    const second = await account.cli(['sync', '--on-new', hook, '--unread-only', '--mark-read', '--json']);
    expect(second.code, second.stderr).toBe(0);
    expect(parseJson(second).accounts[0]).toMatchObject({ status: 'ok', new: 0, deleted: 0, processed: 1, process_failed: 0 });
    const third = await account.cli(['sync', '--on-new', hook, '--json']);
    expect(third.code, third.stderr).toBe(0);
    // "read already": handed over without --unread-only.
    expect(parseJson(third).accounts[0]).toMatchObject({ status: 'ok', new: 0, deleted: 0, processed: 1, process_failed: 0 });
    const fourth = await account.cli(['sync', '--on-new', hook, '--json']);
    expect(fourth.code, fourth.stderr).toBe(0);
    expect(parseJson(fourth).accounts[0]).toMatchObject({ status: 'ok', new: 0, deleted: 0, processed: 0, process_failed: 0 });
    expect(readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(4);

    // Moved away and back, the same messages come back under new UIDs (UIDVALIDITY stays):
    // the cache sees three deleted and three new, and the Message-ID keeps them from being
    // handed over again.
    const validity = await withImap(account.user, async (client) => {
      await client.mailboxCreate('Tmp');
      const inbox = await client.mailboxOpen('INBOX');
      await client.messageMove('1:*', 'Tmp');
      return inbox.uidValidity;
    });
    await withImap(account.user, async (client) => {
      await client.mailboxOpen('Tmp');
      await client.messageMove('1:*', 'INBOX');
      expect((await client.status('INBOX', { uidValidity: true })).uidValidity).toBe(validity);
    });
    const fifth = await account.cli(['sync', '--on-new', hook, '--json']);
    expect(fifth.code, fifth.stderr).toBe(0);
    expect(parseJson(fifth).accounts[0]).toMatchObject({ status: 'ok', new: 3, deleted: 3, processed: 0, process_failed: 0 });
    expect(readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(4);
  });
});

const cachedCount = (account: Account): number => cachedRows(account.home);

/** A TCP proxy to `port` that, once armed, cuts the first connection after `bytes` from the server. */
/**
 * A TCP proxy on 127.0.0.1 to `port`: `onClient` joins each client to its upstream connection
 * (or does more); either side's error or close ends both.
 */
async function proxyTo(port: number, onClient: (client: Socket, upstream: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer((client: Socket) => {
    const upstream = tcpConnect(port, '127.0.0.1');
    onClient(client, upstream);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { server, port: (server.address() as { port: number }).port };
}

/** Passes everything through; touches `flag` as each client connects, and counts them. */
async function noticingProxy(port: number, flag: string): Promise<{ server: Server; port: number; connections: number }> {
  const state = { server: null as unknown as Server, port: 0, connections: 0 };
  Object.assign(
    state,
    await proxyTo(port, (client, upstream) => {
      state.connections++;
      writeFileSync(flag, '');
      client.pipe(upstream).pipe(client);
    }),
  );
  return state;
}

/** Passes everything through until armed; then cuts the first connection after `bytes` from the server. */
async function droppingProxy(port: number, bytes: number): Promise<{ server: Server; port: number; armed: boolean; dropped: number }> {
  const state = { server: null as unknown as Server, port: 0, armed: false, dropped: 0 };
  Object.assign(
    state,
    await proxyTo(port, (client, upstream) => {
      const cut = state.armed && state.dropped === 0;
      let seen = 0;
      client.pipe(upstream);
      upstream.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        if (cut && seen > bytes) {
          state.dropped++;
          client.destroy();
          upstream.destroy();
          return;
        }
        client.write(chunk);
      });
    }),
  );
  return state;
}

