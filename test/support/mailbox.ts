// Server-side checks and setup for e2e tests, straight over IMAP with imapflow and independent of
// mailops' own code: seed a mailbox before running the CLI, inspect what it left behind after.
import { readFileSync } from 'node:fs';
import { ImapFlow } from 'imapflow';
import { mailBed } from './bed.js';
import type { MailUser } from './users.js';

/** Where to connect; default the run's shared Dovecot (implicit TLS). */
export interface ImapServer {
  host: string;
  imapsPort: number;
  caFile: string;
}

export async function withImap<T>(user: MailUser, fn: (client: ImapFlow) => Promise<T>, server: ImapServer = mailBed()): Promise<T> {
  const client = new ImapFlow({
    host: server.host,
    port: server.imapsPort,
    secure: true,
    tls: { ca: readFileSync(server.caFile) },
    auth: { user: user.user, pass: user.password },
    logger: false,
    disableAutoIdle: true,
  });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/** Appends `raw` to `folder` and returns its UID (from UIDPLUS' APPENDUID). */
export async function appendMessage(user: MailUser, folder: string, raw: string | Buffer, flags: string[] = []): Promise<number> {
  return withImap(user, async (client) => {
    const result = await client.append(folder, raw, flags);
    if (!result || result.uid === undefined) throw new Error(`APPEND to ${folder} returned no UID`);
    return result.uid;
  });
}

/** UIDs in `folder`, ascending. */
export async function listUids(user: MailUser, folder: string): Promise<number[]> {
  return withImap(user, (client) =>
    withFolder(client, folder, async () => {
      const uids = await client.search({ all: true }, { uid: true });
      return (uids || []).sort((a, b) => a - b);
    }),
  );
}

/** Flags of one message (e.g. ['\\Seen']), or undefined when there is no such UID. */
export async function getFlags(user: MailUser, folder: string, uid: number): Promise<string[] | undefined> {
  return withImap(user, (client) =>
    withFolder(client, folder, async () => {
      const message = await client.fetchOne(String(uid), { flags: true }, { uid: true });
      return message && message.flags ? [...message.flags].sort() : undefined;
    }),
  );
}

/** The message's RFC 5322 bytes as stored, or undefined when there is no such UID. */
export async function fetchSource(user: MailUser, folder: string, uid: number): Promise<Buffer | undefined> {
  return withImap(user, (client) =>
    withFolder(client, folder, async () => {
      const message = await client.fetchOne(String(uid), { source: true }, { uid: true });
      return message ? message.source : undefined;
    }),
  );
}

export async function folderExists(user: MailUser, path: string): Promise<boolean> {
  return withImap(user, async (client) => (await client.list()).some((folder) => folder.path === path));
}

export async function createFolder(user: MailUser, path: string): Promise<void> {
  await withImap(user, async (client) => {
    await client.mailboxCreate(path);
  });
}

/** Read-only, so inspecting a folder never changes \Recent or anything else the test checks. */
async function withFolder<T>(client: ImapFlow, folder: string, fn: () => Promise<T>): Promise<T> {
  const lock = await client.getMailboxLock(folder, { readOnly: true });
  try {
    return await fn();
  } finally {
    lock.release();
  }
}
