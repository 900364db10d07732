// The Gmail API test bed of one test file: the test authorization server (Google flavour), the
// Gmail API fake checking its tokens by introspection, both under one CA, a registered Google
// client and the fake browser for $BROWSER. No Dovecot or SMTP: an API account needs neither,
// and starting them would cost every Gmail test file seconds on a shared machine.
//
//   const bed = await startGmailBed();
//   const email = bed.newUser('ann');                       // a Gmail mailbox in the fake
//   runCli(['connect', ..., '--client-id', bed.client.clientId, '--client-secret', bed.client.clientSecret], { env: bed.env() });
//   bed.gmail.requests({ api: 'users.getProfile' });
import { randomBytes, createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCa, type CertAuthority } from './certs.js';
import { startGmailServer, type GmailServer, type GmailServerOptions } from './gmail-server.js';
import { installFakeBrowser, personFollowsLink } from './oauth-bed.js';
import { startOAuthServer, type ClientRegistration, type TestOAuthServer } from './oauth-server.js';

export interface GmailBed {
  ca: CertAuthority;
  idp: TestOAuthServer;
  gmail: GmailServer;
  /** A Google desktop client registered at the idp (any loopback redirect). */
  client: Required<Pick<ClientRegistration, 'clientId' | 'clientSecret'>> & ClientRegistration;
  /** An executable to put in $BROWSER. */
  browser: string;
  dir: string;
  /** Adds a mailbox to the fake; the address is unique to this bed. */
  newUser(label?: string): string;
  /** For a CLI run: Google's OAuth endpoints, the Gmail API root, NODE_EXTRA_CA_CERTS, $BROWSER. */
  env(): Record<string, string>;
  /** A fresh file for the fake browser's page log (FAKE_BROWSER_LOG). */
  browserLog(): string;
  /**
   * An access token granted the way a person grants it (authorize with PKCE, the fake browser
   * consents as `email`, code exchanged), without the CLI: to drive the API directly.
   */
  grantToken(email: string, scopes: string[]): Promise<string>;
  stop(): Promise<void>;
}

export async function startGmailBed(options: Omit<GmailServerOptions, 'ca' | 'introspectionUrl'> = {}): Promise<GmailBed> {
  const dir = mkdtempSync(join(tmpdir(), 'mailops-gmail-'));
  try {
    const ca = await makeCa(join(dir, 'ca'));
    const idp = await startOAuthServer({ ca });
    const gmail = await startGmailServer({ ...options, ca, introspectionUrl: idp.introspectionUrl });
    const client = {
      clientId: `${randomBytes(6).toString('hex')}-mailops.apps.googleusercontent.com`,
      clientSecret: `GOCSPX-${randomBytes(18).toString('base64url')}`,
      flavour: 'google' as const,
    };
    idp.registerClient(client);
    const browser = installFakeBrowser(dir);
    const logs = join(dir, 'browser-logs');
    mkdirSync(logs);
    let users = 0;
    let logCount = 0;
    return {
      ca,
      idp,
      gmail,
      client,
      browser,
      dir,
      newUser(label = 'user') {
        const email = `${label}-${++users}-${randomBytes(3).toString('hex')}@gmail.test`;
        gmail.addUser(email);
        return email;
      },
      env: () => ({ ...idp.googleEnv(), ...gmail.env(), BROWSER: browser }),
      browserLog: () => join(logs, `${++logCount}.jsonl`),
      async grantToken(email, scopes) {
        const verifier = randomBytes(32).toString('base64url');
        const redirectUri = 'http://127.0.0.1:9/';
        const authorize = new URL('/o/oauth2/v2/auth', idp.googleUrl);
        authorize.search = new URLSearchParams({
          client_id: client.clientId, redirect_uri: redirectUri, response_type: 'code', scope: scopes.join(' '),
          code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256', login_hint: email,
        }).toString();
        // The browser stays on the redirect (nothing listens there) and says where it ended.
        const landed = new URL(await personFollowsLink({ caFile: ca.certPath }, authorize.href));
        const code = landed.searchParams.get('code');
        if (!code) throw new Error(`no code in ${landed.href}`);
        const answer = await fetch(new URL('/token', idp.googleUrl), {
          method: 'POST',
          body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri, client_id: client.clientId, client_secret: client.clientSecret }),
        });
        const tokens = (await answer.json()) as { access_token?: string; error?: string };
        if (!tokens.access_token) throw new Error(`token exchange failed: ${tokens.error}`);
        return tokens.access_token;
      },
      async stop() {
        await gmail.stop();
        await idp.stop();
        if (!process.env.MAILOPS_KEEP_TEST_TMP) rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
