// The Microsoft Graph test bed of one test file: the test authorization server (Microsoft
// flavour, https), the Graph fake checking its tokens by introspection, both under one CA, a
// registered Microsoft public client (a desktop app: a client id, no secret, any loopback
// redirect) and the fake browser for $BROWSER. No Dovecot or SMTP: a Graph account needs neither.
//
//   const bed = await startGraphBed();
//   const email = bed.newUser('ann');                       // a mailbox in the fake
//   runCli(['connect', ..., '--client-id', bed.client.clientId], { env: bed.env() });
//   bed.graph.requests({ api: 'mailFolders.list' });
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCa, type CertAuthority } from './certs.js';
import { graphClient } from './graph/client.js';
import { startGraphServer, type GraphServer, type GraphServerOptions } from './graph-server.js';
import { installFakeBrowser, personFollowsLink } from './oauth-bed.js';
import { startOAuthServer, type ClientRegistration, type TestOAuthServer } from './oauth-server.js';

export interface GraphBed {
  ca: CertAuthority;
  idp: TestOAuthServer;
  graph: GraphServer;
  /** A Microsoft public client registered at the idp (no secret, any loopback redirect). */
  client: ClientRegistration & { flavour: 'microsoft' };
  /** The tenant segment grantToken signs in through. */
  tenant: string;
  /** An executable to put in $BROWSER. */
  browser: string;
  dir: string;
  /** Adds a mailbox to the fake; the address (`label-N-hex@contoso.test`) is unique to this bed. */
  newUser(label?: string): string;
  /** For a CLI run: MAILOPS_MS_AUTHORITY, MAILOPS_GRAPH_URL, NODE_EXTRA_CA_CERTS, $BROWSER. */
  env(): Record<string, string>;
  /** A fresh file for the fake browser's page log (FAKE_BROWSER_LOG). */
  browserLog(): string;
  /**
   * An access token granted the way a person grants it (authorize with PKCE, the fake browser
   * consents as `email`, code redeemed at the token endpoint), without the CLI: to drive the API
   * directly. Scopes as MSAL asks (`https://graph.microsoft.com/Mail.Read`) or bare.
   */
  grantToken(email: string, scopes: string[]): Promise<string>;
  stop(): Promise<void>;
}

export async function startGraphBed(options: Omit<GraphServerOptions, 'ca' | 'introspectionUrl'> = {}): Promise<GraphBed> {
  const dir = mkdtempSync(join(tmpdir(), 'mailops-graph-'));
  try {
    const ca = await makeCa(join(dir, 'ca'));
    const idp = await startOAuthServer({ ca });
    const graph = await startGraphServer({ ...options, ca, introspectionUrl: idp.introspectionUrl });
    const client = { clientId: randomUUID(), flavour: 'microsoft' as const };
    idp.registerClient(client);
    const tenant = 'organizations';
    const browser = installFakeBrowser(dir);
    const logs = join(dir, 'browser-logs');
    mkdirSync(logs);
    const http = graphClient(idp.msAuthority, ca.certPath);
    let users = 0;
    let logCount = 0;
    return {
      ca,
      idp,
      graph,
      client,
      tenant,
      browser,
      dir,
      newUser(label = 'user') {
        const email = `${label}-${++users}-${randomBytes(3).toString('hex')}@contoso.test`;
        graph.addUser(email);
        return email;
      },
      env: () => ({ ...idp.microsoftEnv(), ...graph.env(), BROWSER: browser }),
      browserLog: () => join(logs, `${++logCount}.jsonl`),
      async grantToken(email, scopes) {
        const verifier = randomBytes(32).toString('base64url');
        const redirectUri = 'http://127.0.0.1:9/';
        const scope = [...scopes, 'offline_access'].join(' ');
        const authorize = new URL(`/${tenant}/oauth2/v2.0/authorize`, idp.msAuthority);
        authorize.search = new URLSearchParams({
          client_id: client.clientId, redirect_uri: redirectUri, response_type: 'code', response_mode: 'query', scope,
          code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256', login_hint: email,
        }).toString();
        // The browser stays on the redirect (nothing listens there) and says where it ended.
        const landed = new URL(await personFollowsLink({ caFile: ca.certPath }, authorize.href));
        const code = landed.searchParams.get('code');
        if (!code) throw new Error(`no code in ${landed.href}`);
        const answer = await http.call(`/${tenant}/oauth2/v2.0/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri, client_id: client.clientId, scope }).toString(),
        });
        const tokens = answer.json<{ access_token?: string; error?: string; error_description?: string }>();
        if (!tokens.access_token) throw new Error(`token exchange failed: ${tokens.error} ${tokens.error_description ?? ''}`);
        return tokens.access_token;
      },
      async stop() {
        http.close();
        await graph.stop();
        await idp.stop();
        if (!process.env.MAILOPS_KEEP_TEST_TMP) rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
