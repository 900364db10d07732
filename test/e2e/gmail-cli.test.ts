// Gmail over the Gmail API from the command line: `connect --provider gmail` (the api backend by
// default) through the test authorization server and the fake browser, then the commands against
// the local Gmail fake (test/support/gmail-bed().ts). Asserted: output, exit codes, what the fake
// saw and holds, and that no token is left on disk or in a trace.
import { describe, expect, it } from 'vitest';
import { SCOPES } from '../support/gmail-server.js';
import { expectNoGrantSecret, gmailHome, jsonError, parseJson, subjectMessage, useGmailBed, type GmailHome } from './helpers.js';

const bed = useGmailBed();

type Home = GmailHome;
const newHome = (label: string, env: Record<string, string> = {}): Home => gmailHome(bed(), label, env);

const connectArgs = (h: Home, ...extra: string[]) => [
  'connect', 'g', '--provider', 'gmail', '--email', h.email, '--client-id', bed().client.clientId, '--client-secret', bed().client.clientSecret, '--secret-store', 'file', '--json', ...extra,
];

describe('connect --provider gmail: the Gmail API by default', () => {
  it('asks for gmail.modify, checks the profile, saves an api account with no servers; the commands then work', async () => {
    const h = newHome('api');
    bed().gmail.addMessage(h.email, subjectMessage('hello kiwi'), { labelIds: ['INBOX', 'UNREAD'], internalDate: Date.UTC(2026, 5, 2) });
    bed().gmail.addMessage(h.email, subjectMessage('older mango'), { labelIds: ['INBOX'], internalDate: Date.UTC(2026, 5, 1) });
    const connected = await h.cli(connectArgs(h));
    expect(connected.code, connected.stderr).toBe(0);
    const account = parseJson(connected).account;
    expect(account.oauth.scopes).toEqual([SCOPES.modify]);
    expect(bed().gmail.requests({ api: 'users.getProfile', user: h.email })).toHaveLength(1);

    const status = parseJson(await h.cli(['status', '--offline', '--json'])).accounts[0];
    expect(status).toMatchObject({ name: 'g', provider: 'gmail', backend: 'api', email: h.email });

    const folders = parseJson(await h.cli(['folders', '--json'])).folders as Array<{ path: string; role: string | null; total_count: number }>;
    expect(folders.find((f) => f.path === 'INBOX')).toMatchObject({ role: 'inbox', total_count: 2 });
    expect(folders.map((f) => f.path)).toContain('All Mail');

    const list = parseJson(await h.cli(['ls', '--json']));
    expect(list.messages.map((m: { subject: string }) => m.subject)).toEqual(['hello kiwi', 'older mango']);
    expect(list).toMatchObject({ total: 2, has_next: false });
    const [first] = list.messages;
    expect(first).toMatchObject({ is_read: false, uid: null, from: { name: 'Bob', address: 'bob@example.org' } });

    const raw = await h.cli(['read', first.id, '--raw']);
    expect(raw.stdout).toBe(subjectMessage('hello kiwi'));
    expect([...bed().gmail.mailbox(h.email).message(first.id).labelIds]).toContain('UNREAD');

    const found = parseJson(await h.cli(['search', '--json', '--', 'subject:kiwi']));
    expect(found.messages.map((m: { id: string }) => m.id)).toEqual([first.id]);
    expect((await h.cli(['search', '--explain', '--', 'subject:kiwi is:unread'])).stdout).toMatch(/q=subject:kiwi is:unread/);

    const marked = await h.cli(['mark', first.id, '--read', '--flagged', '--json']);
    expect(parseJson(marked)).toMatchObject({ processed: 1, total: 1 });
    expect([...bed().gmail.mailbox(h.email).message(first.id).labelIds].sort()).toEqual(['INBOX', 'STARRED']);

    const moved = await h.cli(['move', first.id, '--trash', '--json']);
    expect(moved.code, moved.stderr).toBe(0);
    expect([...bed().gmail.mailbox(h.email).message(first.id).labelIds]).toContain('TRASH');
    const expunge = await h.cli(['move', list.messages[1].id, '--expunge', '--yes', '--json']);
    expect(expunge.code).toBe(3);
    expect(jsonError(expunge).code).toBe('INSUFFICIENT_SCOPE');

    const sent = await h.cli(['send', '--to', 'carol@example.net', '--subject', 'api send', '--body', 'hi', '--json']);
    expect(sent.code, sent.stderr).toBe(0);
    expect(bed().gmail.sent().at(-1)?.recipients).toEqual(['carol@example.net']);

    const traced = await h.cli(['ls', '--trace', '--json']);
    expect(traced.stderr).toMatch(/\[http\] C: GET https:\/\/127\.0\.0\.1:\d+\/gmail\/v1\/users\/me\/messages/);
    expect(traced.stderr).toMatch(/authorization: Bearer \[REDACTED\]/);
    expectNoGrantSecret(bed(), h.home, traced.stderr, traced.stdout, connected.stdout, connected.stderr);
  });

  it('--read-only asks for gmail.readonly: reading works, mark exits 3 INSUFFICIENT_SCOPE and changes nothing', async () => {
    const h = newHome('ro');
    const m = bed().gmail.addMessage(h.email, subjectMessage('read only'), { labelIds: ['INBOX', 'UNREAD'] });
    const connected = await h.cli(connectArgs(h, '--read-only'));
    expect(connected.code, connected.stderr).toBe(0);
    expect(parseJson(connected).account.oauth.scopes).toEqual([SCOPES.readonly]);
    expect(parseJson(await h.cli(['ls', '--json'])).messages).toHaveLength(1);
    const mark = await h.cli(['mark', m.id, '--read', '--json']);
    expect(mark.code).toBe(3);
    expect(jsonError(mark)).toMatchObject({ code: 'INSUFFICIENT_SCOPE', hint: expect.stringContaining('mailops connect g --backend api') });
    expect([...bed().gmail.mailbox(h.email).message(m.id).labelIds]).toContain('UNREAD');
  });

  it('--scope-full asks for https://mail.google.com/ and move --expunge deletes for good', async () => {
    const h = newHome('full');
    const m = bed().gmail.addMessage(h.email, subjectMessage('delete me'), { labelIds: ['INBOX'] });
    const connected = await h.cli(connectArgs(h, '--scope-full'));
    expect(connected.code, connected.stderr).toBe(0);
    expect(parseJson(connected).account.oauth.scopes).toEqual([SCOPES.full]);
    const gone = await h.cli(['move', m.id, '--expunge', '--yes', '--json']);
    expect(gone.code, gone.stderr).toBe(0);
    expect(() => bed().gmail.mailbox(h.email).message(m.id)).toThrow();
  });

  it('another Google account at the browser: nothing is saved, exit 3', async () => {
    const other = bed().newUser('other');
    const h = newHome('mismatch', { FAKE_BROWSER_USER: other });
    const result = await h.cli(connectArgs(h));
    expect(result.code).toBe(3);
    expect(jsonError(result).message).toMatch(new RegExp(`signed in to Google as ${other.replace(/[.]/g, '\\.')}, not`));
    expect(parseJson(await h.cli(['status', '--offline', '--json'])).accounts).toEqual([]);
  });

  it('status checks the API live; --diagnose shows DNS, TCP and TLS to both hosts, the refresh and the call; --nagios works; a revoked grant is exit 3', async () => {
    const h = newHome('status');
    expect((await h.cli(connectArgs(h))).code).toBe(0);
    const live = parseJson(await h.cli(['status', '--json'])).accounts[0];
    expect(live).toMatchObject({ backend: 'api', state: 'active', is_healthy: true, latency_ms: expect.any(Number) });
    expect(live.token_expires_at).toMatch(/^\d{4}-\d\d-\d\dT/);

    const diagnosed = await h.cli(['status', '--diagnose', '--json']);
    expect(diagnosed.code, diagnosed.stderr).toBe(0);
    const checks = parseJson(diagnosed).accounts[0].checks as Array<{ step: string; ok: boolean; ms: number; detail: string }>;
    // The test authorization server's token endpoint is plain http: no TLS step there.
    expect(bed().env().MAILOPS_GOOGLE_TOKEN_URL).toMatch(/^http:/);
    expect(checks.map((c) => c.step)).toEqual(['token.dns', 'token.tcp', 'api.dns', 'api.tcp', 'api.tls', 'token.refresh', 'api.call']);
    expect(checks.find((c) => c.step === 'api.tls')!.detail).toMatch(/TLSv1\.[23].*chain: trusted/);
    expect(checks.every((c) => c.ok && c.ms >= 0)).toBe(true);
    expect(checks.find((c) => c.step === 'token.refresh')!.detail).toContain(SCOPES.modify);
    expect(checks.find((c) => c.step === 'api.call')!.detail).toContain(h.email);

    const nagios = await h.cli(['status', '--nagios']);
    expect(nagios.code, nagios.stdout).toBe(0);
    expect(nagios.stdout).toMatch(/^MAILOPS OK - g: API checks [\d.]+ s \| api_time=[\d.]+s;;;0/);

    // The API host unreachable: the diagnosis stops at its TCP step, exit 4, CRITICAL for Nagios.
    const down = { MAILOPS_GMAIL_API_URL: 'https://127.0.0.1:9' };
    const failed = await h.cli(['status', '--diagnose', '--json'], { env: down });
    expect(failed.code).toBe(4);
    const failedChecks = parseJson(failed).accounts[0].checks as Array<{ step: string; ok: boolean; hint?: string }>;
    expect(failedChecks.at(-1)).toMatchObject({ step: 'api.tcp', ok: false, hint: expect.any(String) });
    expect((await h.cli(['status', '--nagios'], { env: down })).code).toBe(2);

    bed().idp.revokeUser(h.email);
    bed().idp.expireAccessTokens(h.email);
    const revoked = await h.cli(['status', '--json']);
    expect(revoked.code).toBe(3);
    expect(parseJson(revoked).accounts[0]).toMatchObject({ is_healthy: false, state: expect.stringMatching(/needs_reauth|revoked/) });
  });

  it('flag combinations that mean nothing are usage errors (--scope-full is Gmail\'s alone)', async () => {
    const h = newHome('usage');
    expect((await h.cli(connectArgs(h, '--read-only', '--scope-full'))).code).toBe(2);
    expect((await h.cli(connectArgs(h, '--backend', 'imap', '--read-only'))).code).toBe(2);
    expect((await h.cli(connectArgs(h, '--backend', 'api', '--imap-host', 'imap.example.com'))).code).toBe(2);
    expect((await h.cli(['connect', 'p', '--provider', 'imap', '--email', h.email, '--backend', 'api'])).code).toBe(2);
    const outlook = await h.cli(['connect', 'o', '--provider', 'outlook', '--email', 'x@contoso.example', '--backend', 'api', '--scope-full', '--client-id', 'c', '--json']);
    expect(outlook.code).toBe(2);
    expect(jsonError(outlook)).toMatchObject({ code: 'USAGE', message: '--scope-full applies to Gmail accounts' });
  });
});
