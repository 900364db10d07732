/**
 * `connect` for Gmail and Outlook: sign in (src/auth), prove the grant works (IMAP and SMTP
 * logins with its access token, or for the Gmail API `users.getProfile`), and only then save:
 * the grant's secrets, the client secret, and the account with its OAuth settings. A failure at
 * any step saves nothing.
 */
import { MailopsError } from '../domain/errors.js';
import type { AccountConfig, SecretStoreKind, VerifyResult } from '../domain/types.js';
import { GMAIL_API_SCOPES, GRAPH_API_SCOPES, OAUTH_MAIL_SERVERS, type ApiAccess, type OAuthProviderName } from '../providers/oauth-servers.js';
import type { OAuthClient } from '../auth/client-config.js';
import { endpointOverrides, googleEndpoints } from '../auth/endpoints.js';
import type { HttpContext } from '../net/http.js';
import { providerLabel } from '../auth/errors.js';
import { SECRET_KEYS, type Grant, type SignInMode, type SignInUi } from '../auth/sign-in.js';
import { buildAccountConfig, endpointText, resolveEndpoint, type EndpointInput } from './accounts.js';
import { PASSWORD_KEY, type Session } from './session.js';

export interface OAuthConnectInput {
  /** Null with email null: the account is named by the address the sign-in gives (the Gmail API profile, Microsoft's account). */
  name: string | null;
  /** Null for an API account connected without --email: users.getProfile or Microsoft's sign-in says it. */
  email: string | null;
  user?: string | undefined;
  provider: OAuthProviderName;
  imap: EndpointInput;
  smtp: EndpointInput;
  insecure?: boolean | undefined;
  caFile?: string | undefined;
  secretStore?: SecretStoreKind | undefined;
  priority?: number | undefined;
  makeDefault: boolean;
  client: OAuthClient;
  mode: SignInMode;
  port: number | null;
  waitMs: number;
  /** The account being repaired. */
  previous: AccountConfig | null;
  /** 'api': the Gmail REST API or Microsoft Graph; 'imap': IMAP and SMTP with the token. */
  backend: 'api' | 'imap';
  /** The grant asked for over the API (connect --read-only, --scope-full). */
  access: ApiAccess;
}

export interface OAuthConnectResult {
  config: AccountConfig;
  grant: Grant;
  imap: VerifyResult;
  /** Null for an API account: one grant reads and sends. */
  smtp: VerifyResult | null;
}

/** Every key an account may have in the store; those the new grant does not use are removed. */
const ACCOUNT_KEYS = [PASSWORD_KEY, SECRET_KEYS.refreshToken, SECRET_KEYS.accessToken, SECRET_KEYS.clientSecret, SECRET_KEYS.msalCache];
/** Scopes every provider adds on its own; the mail scopes are the ones that matter. */
const HOUSEKEEPING_SCOPES = new Set(['offline_access', 'openid', 'profile', 'email']);

export async function connectOAuthAccount(session: Session, input: OAuthConnectInput, ui: SignInUi): Promise<OAuthConnectResult> {
  const { provider, previous } = input;
  const servers = OAUTH_MAIL_SERVERS[provider];
  const api = input.backend === 'api';
  if (!api && input.email === null) throw new MailopsError('MISSING_INPUT', 'an email address is required', { hint: 'pass --email ADDRESS' });
  if (provider === 'outlook' && input.access === 'full') {
    throw new MailopsError('USAGE', '--scope-full applies to Gmail: Microsoft Graph\'s Mail.ReadWrite deletes for good already');
  }
  const scopes = !api ? servers.scopes : provider === 'gmail' ? GMAIL_API_SCOPES[input.access] : GRAPH_API_SCOPES[input.access === 'read-only' ? 'read-only' : 'default'];
  // The provider's servers unless the flags say otherwise (or a repair keeps what it had).
  const base = previous?.provider === provider ? previous : null;
  // Until the profile answers, an API account without --email has a provisional name and address (never saved).
  const email = input.email ?? '';
  const configFor = (name: string, email: string): AccountConfig => buildAccountConfig(
    {
      name,
      email,
      user: input.user,
      provider,
      imap: api ? null : resolveEndpoint('imap', input.imap, base?.imap ?? servers.imap, email),
      smtp: api ? null : resolveEndpoint('smtp', input.smtp, base?.smtp ?? servers.smtp, email),
      insecure: input.insecure,
      caFile: input.caFile,
      secretStore: input.secretStore,
      passwordCommand: null,
      priority: input.priority,
    },
    previous,
  );
  let config = configFor(input.name ?? '', email);
  config.backend = !api ? 'imap' : provider === 'gmail' ? 'gmail' : 'graph';

  const store = await session.secretStore(config.secretStore);
  await store.checkWritable();

  const { env, runtime, redactor, signal } = session.options;
  const request = {
    provider,
    client: input.client,
    email,
    scopes,
    mode: input.mode,
    port: input.port,
    env,
    // MAILOPS_DNS_SERVERS reaches the token and revoke endpoints too.
    http: { timeoutMs: runtime.timeoutMs, trace: runtime.trace, signal, resolveHost: runtime.resolveHost ?? null },
    waitMs: input.waitMs,
    ui,
    redact: (secret: string) => redactor.add(secret),
  };
  if (input.client.clientSecret) redactor.add(input.client.clientSecret);
  const grant =
    provider === 'gmail'
      ? await (await import('../auth/google.js')).signInGoogle(request)
      : await (await import('../auth/microsoft.js')).signInMicrosoft(request);
  checkScopes(provider, scopes, grant.grantedScopes);
  if (!api && grant.username && grant.username.toLowerCase() !== email.toLowerCase()) {
    ui.note(`warning: signed in to ${providerLabel(provider)} as ${grant.username}, not ${email}; IMAP and SMTP will log in as ${config.user}`);
  }

  config.oauth = {
    clientId: input.client.clientId,
    hasClientSecret: input.client.clientSecret !== null,
    tenant: input.client.tenant,
    redirectUri: input.client.redirectUri,
    scopes,
    grantedScopes: grant.grantedScopes,
    grantedAt: new Date().toISOString(),
    endpoints: endpointOverrides(provider, env),
    homeAccountId: grant.homeAccountId,
  };

  const client = await session.provider(config, { kind: 'oauth2', user: config.user, accessToken: async () => grant.accessToken });
  let imap: VerifyResult;
  let smtp: VerifyResult | null = null;
  try {
    imap = await client.verify(signal ?? new AbortController().signal);
    if (api) {
      // Who signed in: Google's profile says it; for Graph, Microsoft's sign-in does (Graph serves
      // the signed-in user's own mailbox, /me).
      const signedIn = provider === 'gmail' ? imap.address : grant.username;
      const service = provider === 'gmail' ? 'the Gmail API' : 'Microsoft Graph';
      if (input.email === null) {
        if (!signedIn) throw new MailopsError('FAILED', `${service} did not say which address was signed in; nothing was saved`, { hint: 'pass --email ADDRESS' });
        const name = input.name ?? signedIn;
        if (input.name === null && session.accounts.get(name)) {
          throw new MailopsError('USAGE', `an account named ${name} exists already; nothing was saved`, { hint: `to repair it, run mailops connect ${name} --backend api` });
        }
        config = { ...configFor(name, signedIn), backend: config.backend, oauth: config.oauth };
      } else if (signedIn && signedIn.toLowerCase() !== email.toLowerCase()) {
        // The grant must be the mailbox being connected: Google signs in whoever is at the browser.
        // A Microsoft work account's sign-in name may differ from its mail address: said, not refused.
        if (provider === 'outlook') ui.note(`warning: signed in to Microsoft as ${signedIn}; Microsoft Graph serves that account's mailbox as ${email}`);
        else {
          throw new MailopsError('AUTH_FAILED', `signed in to Google as ${signedIn}, not ${email}; nothing was saved`, {
            hint: `run connect again and choose ${email} on Google's page (or pass --email ${signedIn})`,
          });
        }
      }
      ui.note(`Reached ${service} with the OAuth token: ${imap.checks.map((c) => c.detail).join('; ')}, ${imap.latencyMs} ms`);
    } else {
      ui.note(`Logged in to IMAP with the OAuth token: ${endpointText(config.imap)}, ${imap.latencyMs} ms`);
      smtp = await client.verifySend(signal ?? new AbortController().signal);
      ui.note(`Logged in to SMTP with the OAuth token: ${endpointText(config.smtp)}, ${smtp.latencyMs} ms`);
    }
  } catch (error) {
    // Nothing is saved, so the grant just made would be left unused at the provider: end it.
    await revokeUnused(provider, input.client, grant, env, request.http);
    throw error;
  }

  // Save: the secrets first (an account never exists without them), then the row.
  const secrets: Record<string, string> = { ...grant.secrets };
  if (input.client.clientSecret) secrets[SECRET_KEYS.clientSecret] = input.client.clientSecret;
  for (const [key, value] of Object.entries(secrets)) await store.set(config.name, key, value);
  try {
    // Another backend's ids name nothing here: what the cache held under the old one goes (the
    // --on-new record stays: it is keyed by Message-ID and size, the same on every backend).
    if (previous && previous.backend !== config.backend) await session.forgetCachedMail(config.name);
    session.accounts.save(config, input.makeDefault);
    session.accounts.recordTokenExpiry(config.name, grant.expiresAt);
  } catch (error) {
    if (!previous) await store.deleteAccount(config.name).catch(() => undefined);
    throw error;
  }
  // What the previous configuration left behind: a password, another provider's grant, another store.
  for (const key of ACCOUNT_KEYS) if (!(key in secrets)) await store.delete(config.name, key).catch(() => undefined);
  if (previous && previous.secretStore !== config.secretStore && !previous.passwordCommand) {
    await session
      .secretStore(previous.secretStore)
      .then((old) => old.deleteAccount(config.name))
      .catch(() => ui.note(`warning: could not remove the old secrets of ${config.name} from the ${previous.secretStore} store`));
  }
  return { config, grant, imap, smtp };
}

/**
 * Scopes compare without case; a resource scope also matches its bare name, as Microsoft may
 * answer "IMAP.AccessAsUser.All" for "https://outlook.office.com/IMAP.AccessAsUser.All".
 */
function sameScope(wanted: string, granted: string): boolean {
  const a = wanted.toLowerCase();
  const b = granted.toLowerCase();
  if (a === b) return true;
  const name = a.slice(a.lastIndexOf('/') + 1);
  return name !== '' && (b === name || b.endsWith(`/${name}`));
}

/** Best effort: Google revokes; Microsoft has nothing to revoke with (the cache was only in memory). */
async function revokeUnused(provider: OAuthProviderName, client: OAuthClient, grant: Grant, env: NodeJS.ProcessEnv, http: HttpContext): Promise<void> {
  const token = grant.secrets[SECRET_KEYS.refreshToken];
  if (provider !== 'gmail' || !token) return;
  const { revokeGoogleToken } = await import('../auth/google.js');
  await revokeGoogleToken({ client, endpoints: googleEndpoints(env, null), http, token }).catch(() => undefined);
}

function checkScopes(provider: OAuthProviderName, wanted: string[], granted: string[]): void {
  const missing = wanted.filter((s) => !HOUSEKEEPING_SCOPES.has(s) && !granted.some((g) => sameScope(s, g)));
  if (missing.length === 0) return;
  throw new MailopsError('SCOPE_NOT_GRANTED', `${providerLabel(provider)} did not grant ${missing.join(' and ')}; nothing was saved`, {
    hint:
      provider === 'gmail'
        ? 'run connect again and tick the box "Read, compose, send and permanently delete all your email from Gmail" on the consent screen'
        : 'run connect again and accept every permission; in a work tenant an administrator may have to grant consent for IMAP.AccessAsUser.All and SMTP.Send',
  });
}
