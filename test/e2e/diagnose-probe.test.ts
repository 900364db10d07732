// status --probe: the round trip through the suite's SMTP server (delivering into Dovecot over
// LMTP), found by Message-ID, timed, reported with where it landed and its Authentication-Results,
// and deleted again; --probe-to watches it arrive through another account.
import { describe, expect, it } from 'vitest';
import { newUser, receivedFor } from '../support/bed.js';
import { listUids } from '../support/mailbox.js';
import { PASSPHRASE, connectedAccount, parseJson, serverFlags } from './helpers.js';

describe('status --probe', () => {
  it('sends a tagged message to the account itself, reports its delivery and deletes it', async () => {
    const account = await connectedAccount('probe-self');
    const result = await account.cli(['status', '--probe', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const [row] = parseJson(result).accounts;
    expect(row.is_healthy).toBe(true);
    expect(row.probe).toMatchObject({
      from: account.user.email,
      to: account.user.email,
      delivered: true,
      folder: 'INBOX',
      landed_in: 'inbox',
      // The bed's SMTP server delivers over LMTP and adds no Authentication-Results.
      authentication_results: null,
      cleaned_up: true,
    });
    expect(row.probe.message_id).toMatch(/^<mailops-probe\.[\w-]+@mailops\.test>$/);
    expect(row.probe.delivery_ms).toBeGreaterThanOrEqual(0);
    expect(row.checks.at(-1)).toMatchObject({ step: 'probe', ok: true });
    // It went through the SMTP server, and nothing is left in the mailbox.
    const sent = receivedFor(account.user.email);
    expect(sent.some((m) => m.raw.toString().includes(row.probe.message_id))).toBe(true);
    expect(await listUids(account.user, 'INBOX')).toEqual([]);

    const human = await account.cli(['status', '--probe']);
    expect(human.code).toBe(0);
    expect(human.stderr).toMatch(/main: probe delivered to \S+ in \d+ ms, landed in inbox \(INBOX\); no Authentication-Results header/);
  });

  it('--probe-to sends to another address and watches it arrive through the account that has it', async () => {
    const account = await connectedAccount('probe-from');
    const other = newUser('probe-to');
    const added = await account.cli(['connect', 'other', ...serverFlags(other), '--secret-store', 'file', '--password-env', 'PW'], { env: { PW: other.password, MAILOPS_PASSPHRASE: PASSPHRASE } });
    expect(added.code, added.stderr).toBe(0);
    const result = await account.cli(['status', 'main', '--probe-to', other.email, '--diagnose', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const [row] = parseJson(result).accounts;
    expect(row.checks.map((c: { step: string }) => c.step)).toContain('imap.select');
    expect(row.probe).toMatchObject({ from: account.user.email, to: other.email, delivered: true, landed_in: 'inbox', cleaned_up: true });
    expect(await listUids(other, 'INBOX')).toEqual([]);

    const unknown = await account.cli(['status', 'main', '--probe-to', 'nobody@elsewhere.test', '--json']);
    expect(unknown.code).toBe(5);
    expect(parseJson(unknown).accounts[0].probe).toBeNull();
  });
});
