/**
 * The command-line half of `connect` for Gmail and Outlook: which OAuth client and sign-in mode
 * the flags (or the environment, or a prompt) ask for, how the sign-in talks to the person, and
 * what is printed. The flow itself is src/core/oauth-connect.ts.
 */
import { MailopsError } from '../domain/errors.js';
import type { AccountConfig, ProviderName } from '../domain/types.js';
import { validateAccountName, validateEmail } from '../core/accounts.js';
import type { Session } from '../core/session.js';
import { registrationHelp, resolveClient, type OAuthClient } from '../auth/client-config.js';
import { googleDeviceFlowUnsupported, googleSecretMissing } from '../auth/errors.js';
import { SECRET_KEYS, type SignInMode } from '../auth/sign-in.js';
import type { OAuthProviderName } from '../providers/oauth-servers.js';
import type { CliContext } from './context.js';
import { askPassword, askText } from './prompt.js';
import { isoDate, printJson } from './output.js';
import { accountJson } from '../core/account-json.js';
import type { Options as ConnectOptions } from './commands/connect.spec.js';

/** connect's own flags that apply to OAuth accounts too, and the OAuth ones. */
export interface OAuthConnectOptions
  extends Pick<
    ConnectOptions,
    'user' | 'imapHost' | 'imapPort' | 'imapTls' | 'smtpHost' | 'smtpPort' | 'smtpTls' | 'insecure' | 'secretStore' | 'default' | 'priority' | 'backend' | 'readOnly' | 'scopeFull'
  > {
  clientId?: string;
  clientSecret?: string;
  clientSecrets?: string;
  tenant?: string;
  /** false with --no-browser. */
  browser?: boolean;
  deviceCode?: boolean;
  port?: number;
}

export interface OAuthConnectArgs {
  requestedName: string | undefined;
  /** Null: not given for a Gmail account; the API's profile says it (IMAP asks for it). */
  email: string | null;
  provider: ProviderName;
  existing: AccountConfig | null;
  caFile: string | undefined;
  passwordSources: number;
  options: OAuthConnectOptions;
}

/** How long the sign-in waits for the person, unless MAILOPS_OAUTH_TIMEOUT (seconds) says otherwise. */
const DEFAULT_WAIT_SECONDS = 300;

export async function connectOAuth(ctx: CliContext, session: Session, args: OAuthConnectArgs): Promise<number> {
  const { options } = args;
  const provider = args.provider as OAuthProviderName;
  if (args.passwordSources > 0) {
    throw new MailopsError('USAGE', `${provider} accounts sign in with OAuth: the password flags do not apply`, {
      hint: `to log in with an app password instead, pass --provider imap (with --imap-host imap.${provider === 'gmail' ? 'gmail.com' : 'outlook.com'} ...)`,
    });
  }
  const mode = signInMode(provider, options);
  if (options.port !== undefined && options.port > 65535) throw new MailopsError('INVALID_VALUE', '--port must be between 1 and 65535');
  let name = args.requestedName ?? args.email;
  if (name !== null) name = validateAccountName(name);
  const previous = args.existing ?? (name !== null ? (session.accounts.get(name)?.config ?? null) : null);
  const backend = oauthBackend(provider, options, previous);
  // IMAP logs in as the address: it must be known before the sign-in.
  const email = args.email ?? (backend === 'imap' ? validateEmail(await askText(ctx, 'Email address:', '--email')) : null);
  name ??= email;
  const access = options.readOnly ? 'read-only' : options.scopeFull ? 'full' : 'default';
  const client = await oauthClient(ctx, session, provider, options, previous);

  const { connectOAuthAccount } = await import('../core/oauth-connect.js');
  const { openBrowser } = await import('../auth/browser.js');
  const isFirst = session.accounts.list().length === 0;
  const result = await connectOAuthAccount(
    session,
    {
      name,
      email,
      user: options.user,
      provider,
      imap: { host: options.imapHost, port: options.imapPort, tls: options.imapTls },
      smtp: { host: options.smtpHost, port: options.smtpPort, tls: options.smtpTls },
      insecure: options.insecure,
      caFile: args.caFile,
      secretStore: options.secretStore,
      priority: options.priority,
      makeDefault: options.default === true || isFirst,
      client,
      mode,
      port: options.port ?? null,
      waitMs: waitSeconds(ctx.env) * 1000,
      previous,
      backend,
      access,
    },
    { note: (message) => ctx.note(message), openBrowser: (url) => openBrowser(url, ctx.env), input: ctx.io.stdin },
  );

  const { config, grant } = result;
  const saved = session.accounts.get(config.name)!;
  if (ctx.isMachineOutput) {
    printJson(ctx, {
      account: {
        ...accountJson(config, saved.config.isDefault, previous !== null),
        oauth: {
          client_id: client.clientId,
          tenant: client.tenant,
          scopes: grant.grantedScopes,
          token_expires_at: isoDate(grant.expiresAt),
        },
      },
    });
  } else {
    ctx.note(`${previous ? 'Repaired' : 'Connected'} ${config.name} <${config.email}> with ${provider === 'gmail' ? 'Google' : 'Microsoft'} OAuth${config.backend === 'gmail' ? ' over the Gmail API' : config.backend === 'graph' ? ' over Microsoft Graph' : ''}${saved.config.isDefault ? ' (default account)' : ''}`);
  }
  return 0;
}

/**
 * Which backend the account gets: --backend; else what a repaired account had; else, for a new
 * account, the provider's API (the Gmail API, Microsoft Graph) unless IMAP or SMTP settings were
 * given (they only mean something to the imap backend).
 */
function oauthBackend(provider: OAuthProviderName, options: OAuthConnectOptions, previous: AccountConfig | null): 'api' | 'imap' {
  if (options.readOnly && options.scopeFull) throw new MailopsError('USAGE', '--read-only and --scope-full ask for opposite grants: pass one');
  if (provider === 'outlook' && options.scopeFull) {
    throw new MailopsError('USAGE', '--scope-full applies to Gmail accounts', { hint: "Microsoft Graph's Mail.ReadWrite (the default grant) deletes for good already" });
  }
  const serverFlags = [options.imapHost, options.imapPort, options.imapTls, options.smtpHost, options.smtpPort, options.smtpTls].some((v) => v !== undefined);
  let backend = options.backend;
  backend ??= previous?.provider === provider ? (previous.backend === 'imap' ? 'imap' : 'api') : serverFlags ? 'imap' : 'api';
  if (backend === 'imap' && (options.readOnly || options.scopeFull)) {
    throw new MailopsError('USAGE', `--${options.readOnly ? 'read-only' : 'scope-full'} applies to --backend api`, {
      hint: provider === 'gmail' ? 'IMAP and SMTP need the full scope https://mail.google.com/ in any case' : 'IMAP and SMTP need IMAP.AccessAsUser.All and SMTP.Send in any case',
    });
  }
  if (backend === 'api' && serverFlags) {
    throw new MailopsError('USAGE', 'the --imap-* and --smtp-* flags apply to --backend imap', { hint: `${provider === 'gmail' ? 'the Gmail API' : 'Microsoft Graph'} needs no server settings` });
  }
  return backend;
}

function signInMode(provider: OAuthProviderName, options: OAuthConnectOptions): SignInMode {
  if (options.deviceCode) {
    if (options.browser === false) throw new MailopsError('USAGE', '--device-code and --no-browser are two different ways to sign in: pass one');
    if (options.port !== undefined) throw new MailopsError('USAGE', '--port applies to the browser sign-in, not to --device-code');
    if (provider === 'gmail') throw googleDeviceFlowUnsupported();
    return 'device-code';
  }
  return options.browser === false ? 'paste' : 'browser';
}

function waitSeconds(env: NodeJS.ProcessEnv): number {
  const raw = env.MAILOPS_OAUTH_TIMEOUT?.trim();
  if (!raw) return DEFAULT_WAIT_SECONDS;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new MailopsError('INVALID_VALUE', `MAILOPS_OAUTH_TIMEOUT must be a number of seconds above 0, not ${JSON.stringify(raw)}`);
  return value;
}

/** The client from flags, file, environment or the account being repaired; asked for on a terminal. */
async function oauthClient(ctx: CliContext, session: Session, provider: OAuthProviderName, options: OAuthConnectOptions, previous: AccountConfig | null): Promise<OAuthClient> {
  const previousOAuth = previous?.provider === provider ? (previous.oauth ?? null) : null;
  const previousSecret =
    previousOAuth?.hasClientSecret && previous ? await session.secretStore(previous.secretStore).then((s) => s.get(previous.name, SECRET_KEYS.clientSecret)).catch(() => null) : null;
  const found = resolveClient({
    provider,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    clientSecretsFile: options.clientSecrets,
    tenant: options.tenant,
    port: options.port,
    env: ctx.env,
    previous: previousOAuth,
    previousSecret,
  });
  const label = provider === 'gmail' ? 'Gmail' : 'Outlook';
  let clientId = found.clientId;
  if (!clientId) {
    if (!ctx.canPrompt) {
      throw new MailopsError('MISSING_INPUT', `${label} accounts need an OAuth client (an app registration of your own): none was given`, {
        hint: registrationHelp(provider),
      });
    }
    ctx.note(`${label} accounts need an OAuth client of your own. To get one, ${registrationHelp(provider)}.`);
    clientId = (await askText(ctx, 'OAuth client id:', '--client-id')).trim();
  }
  let clientSecret = found.clientSecret;
  if (provider === 'gmail' && !clientSecret) {
    if (!ctx.canPrompt) throw googleSecretMissing();
    clientSecret = await askPassword(ctx, 'OAuth client secret:', '--client-secret');
  }
  if (clientSecret) ctx.redactor.add(clientSecret);
  return { clientId, clientSecret, tenant: found.tenant, redirectUri: found.redirectUri };
}
