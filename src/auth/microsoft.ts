/**
 * Microsoft sign-in through @azure/msal-node's PublicClientApplication:
 *
 * - browser / --no-browser: getAuthCodeUrl + acquireTokenByCode, the two halves of MSAL's
 *   acquireTokenInteractive, around our own loopback listener. MSAL 7 no longer takes a custom
 *   loopback client, and its built-in one binds no timeout, ignores --port when that port is taken
 *   and answers a wrong state by waiting on; ours fails clearly in each case. The browser flow
 *   uses response_mode=form_post as MSAL does; the pasted flow needs the code in the address,
 *   so it asks for response_mode=query.
 * - --device-code: acquireTokenByDeviceCode.
 * - every later command: acquireTokenSilent, which refreshes through the token cache.
 *
 * MSAL's token cache goes through a cache plugin over a backing: the secret store for commands,
 * memory while `connect` has not proven the login yet. The authority is Microsoft's (whose
 * metadata MSAL knows without a lookup) or MAILOPS_MS_AUTHORITY, listed in knownAuthorities
 * with its metadata given, so no discovery request is ever made.
 *
 * @azure/msal-node is imported only here, and only when a Microsoft grant is used.
 */
import type {
  AuthenticationResult,
  ICachePlugin,
  INetworkModule,
  NetworkRequestOptions,
  NetworkResponse,
  PublicClientApplication,
  TokenCacheContext,
} from '@azure/msal-node';
import { createRequire } from 'node:module';
import { MailopsError } from '../domain/errors.js';
import type { OAuthClient } from './client-config.js';
import { MS_DEFAULT_AUTHORITY, microsoftAuthorityHost, microsoftEndpoints } from './endpoints.js';
import { authorizationError, oauthErrorOf, refreshError, type GrantContext } from './errors.js';
import { httpFailure, makeFetch, postForm, type HttpContext } from '../net/http.js';
import { makePkce, makeState } from './pkce.js';
import { receiveAuthorizationResponse } from './redirect.js';
import { SECRET_KEYS, encodeAccessToken, type Grant, type SignInRequest } from './sign-in.js';

/** Where the serialized MSAL cache lives between calls. */
export interface CacheBacking {
  load(): Promise<string | null>;
  save(serialized: string): Promise<void>;
}

export function memoryBacking(initial: string | null = null): CacheBacking & { value: string | null } {
  const backing = {
    value: initial,
    load: async () => backing.value,
    save: async (serialized: string) => {
      backing.value = serialized;
    },
  };
  return backing;
}

class BackedCachePlugin implements ICachePlugin {
  constructor(private readonly backing: CacheBacking) {}

  async beforeCacheAccess(context: TokenCacheContext): Promise<void> {
    const serialized = await this.backing.load();
    if (serialized) context.tokenCache.deserialize(serialized);
  }

  async afterCacheAccess(context: TokenCacheContext): Promise<void> {
    if (context.cacheHasChanged) await this.backing.save(context.tokenCache.serialize());
  }
}

/** MSAL's HTTP through net/http.ts; keeps our own error for a failure MSAL would reword. */
class NetworkClient implements INetworkModule {
  lastFailure: MailopsError | null = null;
  private readonly fetch: typeof fetch;

  constructor(private readonly http: HttpContext) {
    this.fetch = makeFetch(http);
  }

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>('GET', url, options);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>('POST', url, options);
  }

  private async send<T>(method: 'GET' | 'POST', url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    this.lastFailure = null;
    try {
      const response = await this.fetch(url, { method, headers: options?.headers, body: method === 'POST' ? (options?.body ?? '') : undefined });
      const text = await response.text();
      let body: unknown = {};
      try {
        body = JSON.parse(text);
      } catch {
        // MSAL reads the status and the error fields; a non-JSON page carries neither.
      }
      const headers: Record<string, string> = {};
      response.headers.forEach((value, key) => (headers[key] = value));
      return { headers, body: body as T, status: response.status };
    } catch (error) {
      this.lastFailure = httpFailure(error, url, this.http);
      throw this.lastFailure;
    }
  }
}

export interface MicrosoftApp {
  pca: PublicClientApplication;
  network: NetworkClient;
}

async function microsoftApp(client: OAuthClient, authorityHost: string, backing: CacheBacking, http: HttpContext): Promise<MicrosoftApp> {
  // Its CommonJS bundle, required: an ES module import takes MSAL's ES build, many files, 157 ms
  // in a fresh process against 91 ms (median of 8), paid at each refresh of a token.
  const { PublicClientApplication, LogLevel } = createRequire(import.meta.url)('@azure/msal-node') as typeof import('@azure/msal-node');
  const tenant = client.tenant ?? 'common';
  const endpoints = microsoftEndpoints(authorityHost, tenant);
  const custom = authorityHost !== MS_DEFAULT_AUTHORITY;
  const host = new URL(authorityHost).host;
  const network = new NetworkClient(http);
  const pca = new PublicClientApplication({
    auth: {
      clientId: client.clientId,
      authority: endpoints.authority,
      // Any other host must be declared, with its metadata, or MSAL refuses it (or looks it up).
      ...(custom
        ? {
            knownAuthorities: [host],
            authorityMetadata: JSON.stringify({
              authorization_endpoint: endpoints.authorizeUrl,
              token_endpoint: endpoints.tokenUrl,
              device_authorization_endpoint: endpoints.deviceCodeUrl,
              end_session_endpoint: endpoints.logoutUrl,
              jwks_uri: endpoints.jwksUrl,
              issuer: endpoints.issuer,
            }),
          }
        : {}),
    },
    cache: { cachePlugin: new BackedCachePlugin(backing) },
    system: {
      networkClient: network,
      // MSAL retries 5xx and 429 itself unless told not to; one answer is enough for a CLI.
      disableInternalRetries: true,
      loggerOptions: { loggerCallback: () => {}, piiLoggingEnabled: false, logLevel: LogLevel.Error },
    },
  });
  return { pca, network };
}

/** Interactive sign-in: loopback, pasted address, or device code. */
export async function signInMicrosoft(req: SignInRequest): Promise<Grant> {
  const authorityHost = microsoftAuthorityHost(req.env, null);
  const backing = memoryBacking();
  const app = await microsoftApp(req.client, authorityHost, backing, req.http);
  let result: AuthenticationResult | null;
  try {
    if (req.mode === 'device-code') {
      result = await deviceCode(app, req);
    } else {
      await checkMicrosoftClient(req, authorityHost);
      const pkce = makePkce();
      const state = makeState();
      const responseMode = req.mode === 'paste' ? 'query' : 'form_post';
      const { params, redirectUri } = await receiveAuthorizationResponse(req, {
        state,
        // MSAL's convention (and the one Entra registrations use): localhost, any port.
        redirectUriFor: (port) => `http://localhost:${port}`,
        fixedRedirectUri: null,
        authorizationUrl: (redirectUri) =>
          app.pca.getAuthCodeUrl({
            scopes: req.scopes,
            redirectUri,
            codeChallenge: pkce.challenge,
            codeChallengeMethod: 'S256',
            state,
            responseMode: responseMode as never,
            loginHint: req.email,
          }),
      });
      const code = params.get('code')!;
      req.redact(code);
      result = await app.pca.acquireTokenByCode({
        code,
        codeVerifier: pkce.verifier,
        redirectUri,
        scopes: req.scopes,
        clientInfo: params.get('client_info') ?? undefined,
      });
    }
  } catch (error) {
    throw msalError(error, app, (info) => authorizationError(info, 'outlook'));
  }
  if (!result?.accessToken) throw new MailopsError('AUTH_FAILED', 'Microsoft answered without an access token');
  req.redact(result.accessToken);
  if (!backing.value) throw new MailopsError('AUTH_FAILED', 'MSAL kept no token cache after the sign-in');
  const expiresAt = result.expiresOn ?? new Date(Date.now() + 3600_000);
  return {
    accessToken: result.accessToken,
    expiresAt,
    grantedScopes: result.scopes,
    // The access token beside MSAL's cache: a command that finds it fresh does not load MSAL.
    secrets: { [SECRET_KEYS.msalCache]: backing.value, [SECRET_KEYS.accessToken]: encodeAccessToken(result.accessToken, expiresAt) },
    homeAccountId: result.account?.homeAccountId ?? null,
    username: result.account?.username ?? null,
  };
}

async function deviceCode(app: MicrosoftApp, req: SignInRequest): Promise<AuthenticationResult | null> {
  const request = {
    scopes: req.scopes,
    timeout: Math.max(1, Math.round(req.waitMs / 1000)),
    cancel: false,
    deviceCodeCallback: (response: { userCode: string; verificationUri: string; expiresIn: number }) => {
      req.ui.note(`To sign in to Microsoft as ${req.email}, open ${response.verificationUri} on any device and enter the code ${response.userCode}`);
      req.ui.note(`Waiting for the sign-in (the code expires in ${Math.round(response.expiresIn / 60)} min)...`);
    },
  };
  // MSAL polls until the sign-in ends or `cancel` is set; Ctrl-C sets it.
  const onAbort = () => (request.cancel = true);
  req.http.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await app.pca.acquireTokenByDeviceCode(request);
  } finally {
    req.http.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Redeems a made-up code, as for Google: an unknown app (AADSTS700016) or tenant (AADSTS90002)
 * is reported before the browser opens. Other answers (the expected invalid_grant) pass.
 */
async function checkMicrosoftClient(req: SignInRequest, authorityHost: string): Promise<void> {
  const { tokenUrl } = microsoftEndpoints(authorityHost, req.client.tenant ?? 'common');
  const { body } = await postForm(req.http, tokenUrl, {
    grant_type: 'authorization_code',
    code: 'mailops-client-check',
    client_id: req.client.clientId,
    redirect_uri: 'http://localhost',
    scope: req.scopes.join(' '),
  });
  const info = oauthErrorOf(body);
  if (info && /AADSTS(700016|90002)\b/.test(info.description ?? '')) throw authorizationError({ ...info, error: 'invalid_client' }, 'outlook');
}

export interface MicrosoftTokenInput {
  client: OAuthClient;
  env: NodeJS.ProcessEnv;
  authorityOverride: string | null | undefined;
  homeAccountId: string | null;
  scopes: string[];
  backing: CacheBacking;
  http: HttpContext;
}

/**
 * A token from the cache, refreshed by MSAL when it expires within five minutes (or when
 * `forceRefresh`). `rejected` is a token a server has just refused: if the cache still holds it,
 * a refresh is forced.
 */
export async function silentMicrosoftToken(input: MicrosoftTokenInput, grant: GrantContext, rejected: string | null): Promise<{ accessToken: string; expiresAt: Date; scopes: string[] }> {
  const authorityHost = microsoftAuthorityHost(input.env, input.authorityOverride ? { msAuthority: input.authorityOverride } : null);
  const app = await microsoftApp(input.client, authorityHost, input.backing, input.http);
  try {
    const cache = app.pca.getTokenCache();
    const account = (input.homeAccountId ? await cache.getAccountByHomeId(input.homeAccountId) : null) ?? (await cache.getAllAccounts())[0];
    if (!account) {
      throw new MailopsError('NEEDS_REAUTH', `the token cache of ${grant.account} holds no signed-in account`, { hint: `run \`mailops connect ${grant.account}\` again` });
    }
    let result = await app.pca.acquireTokenSilent({ account, scopes: input.scopes });
    if (rejected !== null && result.accessToken === rejected) result = await app.pca.acquireTokenSilent({ account, scopes: input.scopes, forceRefresh: true });
    return { accessToken: result.accessToken, expiresAt: result.expiresOn ?? new Date(Date.now() + 3600_000), scopes: result.scopes };
  } catch (error) {
    throw msalError(error, app, (info) => refreshError(info, grant));
  }
}

/** MSAL's errors (AuthError with errorCode, errorMessage, subError) as ours. */
function msalError(error: unknown, app: MicrosoftApp, map: (info: { error: string; description?: string; subError?: string }) => MailopsError): MailopsError {
  if (error instanceof MailopsError) return error;
  const e = (error ?? {}) as { errorCode?: string; errorMessage?: string; subError?: string; message?: string; name?: string };
  const code = e.errorCode ?? '';
  if (app.network.lastFailure && (code === 'network_error' || code === 'endpoints_resolution_error' || !code)) return app.network.lastFailure;
  if (code === 'device_code_polling_cancelled') return new MailopsError('INTERRUPTED', 'interrupted while waiting for the sign-in');
  if (code === 'device_code_expired' || code === 'user_timeout_reached' || code === 'device_code_unknown_error') {
    return new MailopsError('OAUTH_TIMEOUT', 'the device code sign-in was not completed in time; nothing was saved', {
      hint: 'run connect again and enter the code sooner (MAILOPS_OAUTH_TIMEOUT sets the wait in seconds)',
    });
  }
  if (code === 'post_request_failed') {
    // A device code poll answered with something else than authorization_pending; MSAL keeps only its code.
    const said = /\b(authorization_declined|access_denied|expired_token|bad_verification_code|invalid_grant|invalid_client|unauthorized_client)\b/.exec(e.errorMessage ?? e.message ?? '')?.[1];
    if (said) return map({ error: said, description: undefined });
  }
  if (code === 'no_tokens_found' || code === 'no_account_found' || code === 'refresh_token_expired' || code === 'native_account_unavailable') {
    return map({ error: 'interaction_required', description: e.errorMessage, subError: e.subError });
  }
  if (code) {
    // A server error's description is what the token endpoint said (with its AADSTS number).
    const fromServer = oauthErrorOf({ error: code, error_description: e.errorMessage, suberror: e.subError });
    if (fromServer) return map({ error: fromServer.error, description: fromServer.description, subError: fromServer.subError });
  }
  return new MailopsError('FAILED', `Microsoft sign-in failed: ${e.message ?? String(error)}`, { hint: 'run again with --trace to see the exchange', cause: error });
}
