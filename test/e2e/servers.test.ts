// Smoke test of the real-server bed itself: if this fails, every other e2e failure is suspect.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { ImapFlow } from 'imapflow';
import { createTransport } from 'nodemailer';
import { describe, expect, it } from 'vitest';
import { mailBed, newUser, receivedFor } from '../support/bed.js';
import { fetchSource, listUids, withImap } from '../support/mailbox.js';
import { RELAY_DENIED_DOMAIN } from '../support/smtp.js';
import type { MailUser } from '../support/users.js';

const run = promisify(execFile);

function smtpTransport(user: MailUser, port: number, extra: Record<string, unknown> = {}) {
  const bed = mailBed();
  return createTransport({
    host: bed.host,
    port,
    auth: { user: user.user, pass: user.password },
    tls: { ca: readFileSync(bed.caFile) },
    ...extra,
  });
}

describe('Dovecot', () => {
  it('accepts a login over implicit TLS with the suite CA, and only with it', async () => {
    const bed = mailBed();
    const user = newUser('tls');
    const secured = await withImap(user, async (client) => client.secureConnection);
    expect(secured).toBe(true);

    const untrusting = new ImapFlow({
      host: bed.host,
      port: bed.imapsPort,
      secure: true,
      auth: { user: user.user, pass: user.password },
      logger: false,
    });
    await expect(untrusting.connect()).rejects.toThrow(/self[- ]signed|unable to (get|verify)/i);
  });

  it('advertises CONDSTORE, QRESYNC and the extensions mailops relies on', async () => {
    const capabilities = await withImap(newUser('caps'), async (client) => [...client.capabilities.keys()]);
    expect(capabilities).toEqual(
      expect.arrayContaining(['CONDSTORE', 'QRESYNC', 'MOVE', 'UIDPLUS', 'SPECIAL-USE', 'LIST-STATUS']),
    );
  });

  it('gives every new user the special-use folders', async () => {
    const folders = await withImap(newUser('folders'), async (client) => client.list());
    const uses = Object.fromEntries(folders.map((f) => [f.path, f.specialUse ?? null]));
    expect(uses).toEqual({
      INBOX: '\\Inbox',
      Drafts: '\\Drafts',
      Sent: '\\Sent',
      Trash: '\\Trash',
      Junk: '\\Junk',
      Archive: '\\Archive',
    });
  });

  it('allows a plaintext login on the non-TLS port', async () => {
    const bed = mailBed();
    const user = newUser('plain');
    const client = new ImapFlow({
      host: bed.host,
      port: bed.imapPort,
      secure: false,
      doSTARTTLS: false,
      auth: { user: user.user, pass: user.password },
      logger: false,
    });
    await client.connect();
    expect(client.secureConnection).toBe(false);
    expect(client.authenticated).toBeTruthy();
    await client.logout();
  });
});

describe('SMTP', () => {
  it('sends after STARTTLS + AUTH, delivers into the INBOX, and refuses the denied recipient', async () => {
    const bed = mailBed();
    const sender = newUser('sender');
    const recipient = newUser('recipient');
    const subject = `smoke ${randomUUID()}`;
    const denied = `nobody@${RELAY_DENIED_DOMAIN}`;

    const info = await smtpTransport(sender, bed.smtpPort, { requireTLS: true }).sendMail({
      from: sender.email,
      to: [recipient.email, denied],
      subject,
      text: 'hello from the bed',
    });

    expect(info.accepted).toEqual([recipient.email]);
    expect(info.rejected).toEqual([denied]);
    const [received] = receivedFor(recipient.email);
    expect(received).toMatchObject({ listener: 'starttls', authUser: sender.user, mailFrom: sender.email });
    const uids = await listUids(recipient, 'INBOX');
    expect(uids).toHaveLength(1);
    const source = await fetchSource(recipient, 'INBOX', uids[0]!);
    expect(source?.toString()).toContain(`Subject: ${subject}`);
    expect(await listUids(sender, 'INBOX')).toEqual([]);
  });

  it('rejects a wrong password with 535', async () => {
    const user = newUser('badpass');
    const transport = smtpTransport({ ...user, password: 'wrong' }, mailBed().smtpPort, { requireTLS: true });
    await expect(transport.verify()).rejects.toMatchObject({ code: 'EAUTH', responseCode: 535 });
  });

  it('refuses AUTH before STARTTLS on the submission port', async () => {
    const transport = smtpTransport(newUser('notls'), mailBed().smtpPort, { ignoreTLS: true });
    await expect(transport.verify()).rejects.toThrow(/STARTTLS/);
  });

  it('also serves implicit TLS and plain ports', async () => {
    const bed = mailBed();
    const user = newUser('ports');
    await expect(smtpTransport(user, bed.smtpsPort, { secure: true }).verify()).resolves.toBe(true);
    await expect(smtpTransport(user, bed.smtpPlainPort, { ignoreTLS: true }).verify()).resolves.toBe(true);
  });
});

describe('gnome-keyring', () => {
  it.skipIf(!process.env.DBUS_SESSION_BUS_ADDRESS)('stores and returns a secret through the Secret Service', async () => {
    const attrs = ['service', 'mailops-bed-smoke', 'id', randomUUID()];
    const secret = `s-${randomUUID()}`;
    const store = run('secret-tool', ['store', '--label=mailops bed smoke', ...attrs]);
    store.child.stdin!.end(secret);
    await store;
    try {
      const { stdout } = await run('secret-tool', ['lookup', ...attrs]);
      expect(stdout).toBe(secret);
    } finally {
      await run('secret-tool', ['clear', ...attrs]);
    }
  });
});
