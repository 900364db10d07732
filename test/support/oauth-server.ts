// A local OAuth 2.0 authorization server standing in for Google and the Microsoft identity
// platform, written for the tests. It speaks the real protocols, with each provider's shapes:
//
//   Google flavour (http):     GET  /o/oauth2/v2/auth           authorization code, PKCE S256 required
//                              POST /token                       authorization_code, refresh_token (rotated)
//                              POST /revoke                      RFC 7009, token in the query or the form
//   Microsoft flavour (https): GET  /{tenant}/oauth2/v2.0/authorize   response_mode form_post or query
//                              POST /{tenant}/oauth2/v2.0/token       + device_code grant, id_token, client_info
//                              POST /{tenant}/oauth2/v2.0/devicecode  RFC 8628
//                              GET/POST /devicelogin                  where the person enters the code
//   both:                      POST /introspect                  RFC 7662, for Dovecot and the SMTP server
//                              POST /consent                     the consent screen's form
//
// Refresh tokens rotate: each refresh returns a new one and voids the old; presenting a voided
// one revokes the whole grant (reuse detection, as OAuth 2.1 recommends). So a lost rotation
// shows up as a dead grant. The Microsoft flavour is served over https with a certificate from a
// CA of the test (trust it with NODE_EXTRA_CA_CERTS), as MSAL accepts only https authorities.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { makeServerCert, type CertAuthority } from './certs.js';
import { HOST } from './net.js';

export interface ClientRegistration {
  clientId: string;
  /** Google clients have one; Microsoft public clients none. */
  clientSecret?: string;
  flavour: 'google' | 'microsoft';
  /** Exact redirect URIs (a Google "web" client); default: any loopback URI, any port (desktop / public client). */
  redirectUris?: string[];
}

export type GrantType = 'authorization_code' | 'refresh_token' | 'device_code';

export interface TokenRequestRecord {
  grantType: GrantType;
  clientId: string;
  ok: boolean;
  error?: string;
  at: number;
}

export interface OAuthServerOptions {
  /** Signs the https listener's certificate (the Microsoft flavour). */
  ca: CertAuthority;
  /** Access token lifetime in seconds (default 3600); see setAccessTokenTtl. */
  accessTokenTtl?: number;
}

export interface TestOAuthServer {
  /** http://127.0.0.1:PORT, the Google flavour. */
  googleUrl: string;
  /** https://127.0.0.1:PORT (scheme and host, as MAILOPS_MS_AUTHORITY wants it). */
  msAuthority: string;
  introspectionUrl: string;
  /** The PEM to trust for the https listener. */
  caFile: string;
  /** MAILOPS_GOOGLE_* variables pointing at this server. */
  googleEnv(): Record<string, string>;
  /** MAILOPS_MS_AUTHORITY and NODE_EXTRA_CA_CERTS. */
  microsoftEnv(): Record<string, string>;
  registerClient(client: ClientRegistration): void;
  setAccessTokenTtl(seconds: number): void;
  /** Revokes every grant of a user (as when they remove the app in their account settings). */
  revokeUser(user: string): void;
  /** Ends the user's access tokens now, before the expiry they were issued with (refresh tokens stay good). */
  expireAccessTokens(user: string): void;
  /** Grants not revoked, per user. */
  activeGrants(user: string): number;
  tokenRequests(filter?: Partial<Pick<TokenRequestRecord, 'grantType' | 'clientId' | 'ok'>>): TokenRequestRecord[];
  /** How many introspection requests were answered, and how many said active. */
  introspections(): { total: number; active: number };
  /** Every token and code ever issued, for "no secret on disk or in output" checks. */
  issuedSecrets(): string[];
  /** The code_challenge_method of every authorization request that got a code. */
  pkceMethods(): string[];
  stop(): Promise<void>;
}

interface PendingAuthorization {
  id: string;
  flavour: 'google' | 'microsoft';
  clientId: string;
  redirectUri: string;
  scopes: string[];
  state: string | null;
  challenge: string;
  challengeMethod: string;
  loginHint: string | null;
  responseMode: 'query' | 'form_post';
  tenant: string;
}

interface Grant {
  id: string;
  user: string;
  clientId: string;
  flavour: 'google' | 'microsoft';
  scopes: string[];
  revoked: boolean;
}

interface AuthCode {
  grant: Grant;
  redirectUri: string;
  challenge: string;
  expiresAt: number;
  used: boolean;
  tenant: string;
}

interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  clientId: string;
  scopes: string[];
  tenant: string;
  expiresAt: number;
  decision: 'pending' | 'approved' | 'denied';
  user: string | null;
  redeemed: boolean;
}

const TENANT_ID = '9188040d-6c67-4c5b-b112-36a304b66dad';
const LOCAL_USER_ID_NS = '00000000-0000-0000-';

export async function startOAuthServer(opts: OAuthServerOptions): Promise<TestOAuthServer> {
  let ttl = opts.accessTokenTtl ?? 3600;
  const clients = new Map<string, ClientRegistration>();
  const pending = new Map<string, PendingAuthorization>();
  const codes = new Map<string, AuthCode>();
  const refreshTokens = new Map<string, { grant: Grant; current: boolean }>();
  const accessTokens = new Map<string, { grant: Grant; expiresAt: number }>();
  const devices = new Map<string, DeviceAuthorization>();
  const grants: Grant[] = [];
  const tokenLog: TokenRequestRecord[] = [];
  const issued: string[] = [];
  const pkceMethods: string[] = [];
  let introspected = 0;
  let introspectedActive = 0;

  const cert = await makeServerCert(opts.ca, { cn: HOST, sans: [HOST, 'localhost'] });
  const http = createHttpServer((req, res) => void route(req, res, 'google').catch((err) => fail(res, err)));
  const https = createHttpsServer({ key: readFileSync(cert.keyPath), cert: readFileSync(cert.certPath) }, (req, res) =>
    void route(req, res, 'microsoft').catch((err) => fail(res, err)),
  );
  const httpPort = await listen(http);
  const httpsPort = await listen(https);
  const googleUrl = `http://${HOST}:${httpPort}`;
  const msAuthority = `https://${HOST}:${httpsPort}`;

  function secret(prefix: string): string {
    const value = `${prefix}${randomBytes(24).toString('base64url')}`;
    issued.push(value);
    return value;
  }

  async function route(req: IncomingMessage, res: ServerResponse, listener: 'google' | 'microsoft'): Promise<void> {
    const url = new URL(req.url ?? '/', listener === 'google' ? googleUrl : msAuthority);
    const body = req.method === 'POST' ? await readForm(req) : new URLSearchParams();
    const path = url.pathname;
    if (path === '/introspect' && req.method === 'POST') return introspect(res, body);
    if (path === '/consent' && req.method === 'POST') return consent(res, body);
    if (listener === 'google') {
      if (path === '/o/oauth2/v2/auth' && req.method === 'GET') return authorize(res, url.searchParams, 'google', 'common');
      if (path === '/token' && req.method === 'POST') return token(res, body, 'google', 'common', req);
      if (path === '/revoke' && req.method === 'POST') return revoke(res, url.searchParams.get('token') ?? body.get('token'));
    } else {
      if (path === '/devicelogin') return deviceLogin(req, res, body);
      const m = /^\/([^/]+)\/oauth2\/v2\.0\/(authorize|token|devicecode)$/.exec(path);
      if (m) {
        const tenant = decodeURIComponent(m[1]!);
        if (tenant === 'nonexistent.example') {
          return json(res, 400, { error: 'invalid_request', error_description: `AADSTS90002: Tenant '${tenant}' not found.` });
        }
        if (m[2] === 'authorize' && req.method === 'GET') return authorize(res, url.searchParams, 'microsoft', tenant);
        if (m[2] === 'token' && req.method === 'POST') return token(res, body, 'microsoft', tenant, req);
        if (m[2] === 'devicecode' && req.method === 'POST') return deviceCode(res, body, tenant);
      }
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  }

  function authorize(res: ServerResponse, q: URLSearchParams, flavour: 'google' | 'microsoft', tenant: string): void {
    const clientId = q.get('client_id') ?? '';
    const client = clients.get(clientId);
    if (!client || client.flavour !== flavour) {
      // Both providers show an error page here: they cannot trust the redirect URI of an unknown client.
      return errorPage(res, 401, flavour === 'google' ? 'Error 401: invalid_client' : `AADSTS700016: Application with identifier '${clientId}' was not found`);
    }
    const redirectUri = q.get('redirect_uri') ?? '';
    if (!redirectAllowed(client, redirectUri)) {
      return errorPage(res, 400, flavour === 'google' ? 'Error 400: redirect_uri_mismatch' : `AADSTS50011: The redirect URI '${redirectUri}' does not match`);
    }
    if (q.get('response_type') !== 'code') return errorPage(res, 400, 'unsupported response_type');
    const method = q.get('code_challenge_method') ?? '';
    const challenge = q.get('code_challenge') ?? '';
    if (method !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(challenge)) return errorPage(res, 400, 'this server requires PKCE with S256');
    const id = randomUUID();
    const responseMode = q.get('response_mode') === 'form_post' ? 'form_post' : 'query';
    if (flavour === 'google' && responseMode !== 'query') return errorPage(res, 400, 'Google answers in the query string');
    pending.set(id, {
      id,
      flavour,
      clientId,
      redirectUri,
      scopes: (q.get('scope') ?? '').split(/\s+/).filter(Boolean),
      state: q.get('state'),
      challenge,
      challengeMethod: method,
      loginHint: q.get('login_hint'),
      responseMode,
      tenant,
    });
    const p = pending.get(id)!;
    const scopeBoxes = p.scopes
      .map((s) => `<label><input type="checkbox" name="scope" value="${esc(s)}" checked> ${esc(s)}</label><br>`)
      .join('\n');
    html(
      res,
      200,
      `<h1>Sign in to ${esc(clientId)}</h1>
<form method="post" action="/consent">
<input type="hidden" name="txn" value="${id}">
<input type="hidden" name="user" value="${esc(p.loginHint ?? '')}">
${scopeBoxes}
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Cancel</button>
</form>`,
    );
  }

  function consent(res: ServerResponse, form: URLSearchParams): void {
    const p = pending.get(form.get('txn') ?? '');
    if (!p) return errorPage(res, 400, 'this consent screen has expired');
    pending.delete(p.id);
    const respond: Record<string, string> = {};
    if (form.get('decision') !== 'allow') {
      respond.error = 'access_denied';
      if (p.flavour === 'microsoft') respond.error_description = 'AADSTS65004: User declined to consent to access the app.';
    } else {
      const user = (form.get('user') || p.loginHint || 'nobody@example.org').toLowerCase();
      const granted = form.getAll('scope').filter((s) => p.scopes.includes(s));
      const grant: Grant = { id: randomUUID(), user, clientId: p.clientId, flavour: p.flavour, scopes: granted, revoked: false };
      grants.push(grant);
      const code = secret(p.flavour === 'google' ? '4/0A' : '0.AX');
      codes.set(code, { grant, redirectUri: p.redirectUri, challenge: p.challenge, expiresAt: Date.now() + 60_000, used: false, tenant: p.tenant });
      pkceMethods.push(p.challengeMethod);
      respond.code = code;
      if (p.flavour === 'google') respond.scope = granted.join(' ');
      else respond.client_info = clientInfo(user);
    }
    if (p.state !== null) respond.state = p.state;
    if (p.responseMode === 'form_post') {
      const fields = Object.entries(respond)
        .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
        .join('');
      return html(res, 200, `<form method="post" action="${esc(p.redirectUri)}">${fields}</form><script>document.forms[0].submit()</script>`);
    }
    const target = new URL(p.redirectUri);
    for (const [k, v] of Object.entries(respond)) target.searchParams.set(k, v);
    res.writeHead(302, { location: target.href }).end();
  }

  function token(res: ServerResponse, form: URLSearchParams, flavour: 'google' | 'microsoft', tenant: string, req: IncomingMessage): void {
    const rawType = form.get('grant_type') ?? '';
    const grantType: GrantType | null =
      rawType === 'authorization_code' ? 'authorization_code' : rawType === 'refresh_token' ? 'refresh_token' : rawType === 'urn:ietf:params:oauth:grant-type:device_code' || rawType === 'device_code' ? 'device_code' : null; // Entra takes both spellings; MSAL sends the short one
    const clientId = form.get('client_id') ?? basicAuth(req)?.id ?? '';
    const record = (ok: boolean, error?: string) => {
      if (grantType) tokenLog.push({ grantType, clientId, ok, error, at: Date.now() });
    };
    const refuse = (status: number, error: string, description: string) => {
      record(false, error);
      json(res, status, { error, error_description: description });
    };
    if (!grantType) return refuse(400, 'unsupported_grant_type', 'Invalid grant_type');
    const client = clients.get(clientId);
    if (!client || client.flavour !== flavour) {
      return flavour === 'google'
        ? refuse(401, 'invalid_client', 'The OAuth client was not found.')
        : refuse(400, 'unauthorized_client', `AADSTS700016: Application with identifier '${clientId}' was not found in the directory.`);
    }
    if (client.clientSecret !== undefined) {
      const given = form.get('client_secret') ?? basicAuth(req)?.secret;
      if (given !== client.clientSecret) return refuse(401, 'invalid_client', 'Unauthorized');
    }

    if (grantType === 'authorization_code') {
      const entry = codes.get(form.get('code') ?? '');
      if (!entry) return refuse(400, 'invalid_grant', flavour === 'google' ? 'Malformed auth code.' : 'AADSTS9002313: Invalid request. Request is malformed or invalid.');
      if (entry.used) {
        entry.grant.revoked = true; // a replayed code voids what it gave
        return refuse(400, 'invalid_grant', flavour === 'google' ? 'Bad Request' : 'AADSTS54005: OAuth2 Authorization code was already redeemed.');
      }
      entry.used = true;
      if (entry.grant.clientId !== clientId) return refuse(400, 'invalid_grant', 'code was issued to another client');
      if (entry.expiresAt < Date.now()) return refuse(400, 'invalid_grant', 'Code expired');
      if (form.get('redirect_uri') !== entry.redirectUri) {
        return flavour === 'google' ? refuse(400, 'redirect_uri_mismatch', 'Bad Request') : refuse(400, 'invalid_grant', 'AADSTS70008: redirect_uri does not match');
      }
      const verifier = form.get('code_verifier') ?? '';
      if (createHash('sha256').update(verifier).digest('base64url') !== entry.challenge) {
        return refuse(400, 'invalid_grant', flavour === 'google' ? 'Invalid code verifier.' : 'AADSTS501481: The Code_Verifier does not match the code_challenge supplied in the authorization request.');
      }
      record(true);
      return json(res, 200, issueTokens(entry.grant, tenant));
    }

    if (grantType === 'refresh_token') {
      const entry = refreshTokens.get(form.get('refresh_token') ?? '');
      if (!entry || entry.grant.clientId !== clientId) {
        return refuse(400, 'invalid_grant', flavour === 'google' ? 'Token has been expired or revoked.' : 'AADSTS9002313: Invalid request. Request is malformed or invalid.');
      }
      if (!entry.current && !entry.grant.revoked) entry.grant.revoked = true; // reuse of a rotated token: the grant dies
      if (entry.grant.revoked) {
        return refuse(400, 'invalid_grant', flavour === 'google' ? 'Token has been expired or revoked.' : 'AADSTS50173: The provided grant has expired due to it being revoked.');
      }
      entry.current = false;
      record(true);
      return json(res, 200, issueTokens(entry.grant, tenant));
    }

    const device = devices.get(form.get('device_code') ?? '');
    if (!device || device.clientId !== clientId) return refuse(400, 'invalid_grant', 'AADSTS70000: unknown device code');
    if (device.expiresAt < Date.now()) return refuse(400, 'expired_token', 'AADSTS70020: The provided value for the input parameter device_code is expired.');
    if (device.decision === 'pending') return refuse(400, 'authorization_pending', 'AADSTS70016: OAuth 2.0 device flow error. Authorization is pending.');
    if (device.decision === 'denied') return refuse(400, 'authorization_declined', 'AADSTS70000: The user declined the authorization.');
    if (device.redeemed) return refuse(400, 'invalid_grant', 'AADSTS70000: device code already redeemed');
    device.redeemed = true;
    const grant: Grant = { id: randomUUID(), user: device.user!, clientId, flavour: 'microsoft', scopes: device.scopes, revoked: false };
    grants.push(grant);
    record(true);
    return json(res, 200, issueTokens(grant, tenant));
  }

  function issueTokens(grant: Grant, tenant: string): Record<string, unknown> {
    const accessToken = secret(grant.flavour === 'google' ? 'ya29.' : 'eyJ0eXAi.');
    const refreshToken = secret(grant.flavour === 'google' ? '1//0g' : '0.AXrt');
    accessTokens.set(accessToken, { grant, expiresAt: Date.now() + ttl * 1000 });
    refreshTokens.set(refreshToken, { grant, current: true });
    const answer: Record<string, unknown> = {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: ttl,
      refresh_token: refreshToken,
      scope: grant.scopes.join(' '),
    };
    if (grant.flavour === 'microsoft') {
      answer.ext_expires_in = ttl;
      answer.client_info = clientInfo(grant.user);
      answer.id_token = idToken(grant, tenant);
    }
    return answer;
  }

  function idToken(grant: Grant, tenant: string): string {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      aud: grant.clientId,
      iss: `${msAuthority}/${TENANT_ID}/v2.0`,
      iat: now,
      nbf: now,
      exp: now + 3600,
      name: grant.user,
      oid: userId(grant.user),
      preferred_username: grant.user,
      sub: userId(grant.user),
      tid: TENANT_ID,
      ver: '2.0',
      // Which tenant path the sign-in used, for debugging only.
      x_tenant_path: tenant,
    };
    const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    return `${part({ typ: 'JWT', alg: 'RS256', kid: 'test' })}.${part(claims)}.${randomBytes(32).toString('base64url')}`;
  }

  function deviceCode(res: ServerResponse, form: URLSearchParams, tenant: string): void {
    const clientId = form.get('client_id') ?? '';
    const client = clients.get(clientId);
    if (!client || client.flavour !== 'microsoft') {
      return json(res, 400, { error: 'unauthorized_client', error_description: `AADSTS700016: Application with identifier '${clientId}' was not found in the directory.` });
    }
    const device: DeviceAuthorization = {
      deviceCode: secret('DAQABAAEAAA'),
      userCode: randomBytes(4).toString('hex').toUpperCase(),
      clientId,
      scopes: (form.get('scope') ?? '').split(/\s+/).filter(Boolean),
      tenant,
      expiresAt: Date.now() + 900_000,
      decision: 'pending',
      user: null,
      redeemed: false,
    };
    devices.set(device.deviceCode, device);
    const verificationUri = `${msAuthority}/devicelogin`;
    json(res, 200, {
      device_code: device.deviceCode,
      user_code: device.userCode,
      verification_uri: verificationUri,
      expires_in: 900,
      interval: 1,
      message: `To sign in, use a web browser to open the page ${verificationUri} and enter the code ${device.userCode} to authenticate.`,
    });
  }

  function deviceLogin(req: IncomingMessage, res: ServerResponse, form: URLSearchParams): void {
    if (req.method === 'GET') {
      return html(
        res,
        200,
        `<h1>Enter code</h1><form method="post" action="/devicelogin">
<input type="text" name="user_code" value="">
<input type="text" name="user" value="">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Cancel</button></form>`,
      );
    }
    const code = (form.get('user_code') ?? '').trim().toUpperCase();
    const device = [...devices.values()].find((d) => d.userCode === code && d.decision === 'pending');
    if (!device) return errorPage(res, 400, 'That code was not recognised.');
    device.decision = form.get('decision') === 'allow' ? 'approved' : 'denied';
    device.user = (form.get('user') || 'nobody@example.org').toLowerCase();
    html(res, 200, device.decision === 'approved' ? '<h1>You are signed in.</h1><p>You can close this window.</p>' : '<h1>Sign-in cancelled.</h1>');
  }

  function revoke(res: ServerResponse, tokenValue: string | null): void {
    const grant = refreshTokens.get(tokenValue ?? '')?.grant ?? accessTokens.get(tokenValue ?? '')?.grant;
    if (!grant || grant.revoked) return json(res, 400, { error: 'invalid_token', error_description: 'Token expired or revoked' });
    grant.revoked = true;
    json(res, 200, {});
  }

  function introspect(res: ServerResponse, form: URLSearchParams): void {
    introspected++;
    const entry = accessTokens.get(form.get('token') ?? '');
    if (!entry || entry.grant.revoked || entry.expiresAt < Date.now()) return json(res, 200, { active: false });
    introspectedActive++;
    json(res, 200, {
      active: true,
      username: entry.grant.user,
      scope: entry.grant.scopes.join(' '),
      client_id: entry.grant.clientId,
      token_type: 'Bearer',
      exp: Math.floor(entry.expiresAt / 1000),
      sub: userId(entry.grant.user),
    });
  }

  function redirectAllowed(client: ClientRegistration, uri: string): boolean {
    if (client.redirectUris) return client.redirectUris.includes(uri);
    try {
      const url = new URL(uri);
      return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
    } catch {
      return false;
    }
  }

  return {
    googleUrl,
    msAuthority,
    introspectionUrl: `${googleUrl}/introspect`,
    caFile: opts.ca.certPath,
    googleEnv: () => ({
      MAILOPS_GOOGLE_AUTH_URL: `${googleUrl}/o/oauth2/v2/auth`,
      MAILOPS_GOOGLE_TOKEN_URL: `${googleUrl}/token`,
      MAILOPS_GOOGLE_REVOKE_URL: `${googleUrl}/revoke`,
    }),
    microsoftEnv: () => ({ MAILOPS_MS_AUTHORITY: msAuthority, NODE_EXTRA_CA_CERTS: opts.ca.certPath }),
    registerClient: (client) => void clients.set(client.clientId, client),
    setAccessTokenTtl: (seconds) => void (ttl = seconds),
    revokeUser: (user) => {
      for (const g of grants) if (g.user === user.toLowerCase()) g.revoked = true;
    },
    expireAccessTokens: (user) => {
      for (const entry of accessTokens.values()) if (entry.grant.user === user.toLowerCase()) entry.expiresAt = 0;
    },
    activeGrants: (user) => grants.filter((g) => g.user === user.toLowerCase() && !g.revoked).length,
    tokenRequests: (filter = {}) =>
      tokenLog.filter((r) => Object.entries(filter).every(([k, v]) => r[k as keyof TokenRequestRecord] === v)),
    introspections: () => ({ total: introspected, active: introspectedActive }),
    issuedSecrets: () => [...issued],
    pkceMethods: () => [...pkceMethods],
    async stop() {
      for (const server of [http, https]) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  };
}

function clientInfo(user: string): string {
  return Buffer.from(JSON.stringify({ uid: userId(user), utid: TENANT_ID })).toString('base64url');
}

/** A stable object id per user, shaped like Entra's. */
function userId(user: string): string {
  const hex = createHash('sha256').update(user).digest('hex');
  return `${LOCAL_USER_ID_NS}${hex.slice(0, 4)}-${hex.slice(4, 16)}`;
}

function basicAuth(req: IncomingMessage): { id: string; secret: string } | null {
  const header = req.headers.authorization ?? '';
  if (!header.startsWith('Basic ')) return null;
  const [id, secret] = Buffer.from(header.slice(6), 'base64').toString().split(':');
  return { id: decodeURIComponent(id ?? ''), secret: decodeURIComponent(secret ?? '') };
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of req) body += (chunk as Buffer).toString('utf8');
  return new URLSearchParams(body);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(JSON.stringify(value));
}

function html(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><html><body>${body}</body></html>`);
}

function errorPage(res: ServerResponse, status: number, text: string): void {
  html(res, status, `<h1>Error</h1><p id="error">${esc(text)}</p>`);
}

function fail(res: ServerResponse, err: unknown): void {
  if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
  res.end(String(err));
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => resolve((server.address() as AddressInfo).port));
  });
}

