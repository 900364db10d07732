/**
 * `mailops connect [NAME]`: add or repair an IMAP/SMTP account. Every value
 * can come from a flag; on a TTY the missing ones are asked. The login is
 * tested (IMAP, then SMTP) before anything is saved; on failure nothing is.
 */
import { accessSync, constants } from 'node:fs';
import { resolve } from 'node:path';
import { MailopsError } from '../../domain/errors.js';
import type { ServerEndpoint, TlsMode } from '../../domain/types.js';
import {
  buildAccountConfig,
  domainOf,
  guessProvider,
  resolveEndpoint,
  validateAccountName,
  validateEmail,
  type EndpointInput,
} from '../../core/accounts.js';
import type { CliContext } from '../context.js';
import { withSession } from '../session.js';
import { askChoice, askPassword, askText } from '../prompt.js';
import { printJson } from '../output.js';
import { accountJson } from '../../core/account-json.js';
import type { Options } from './connect.spec.js';

const TLS_MODES = ['implicit', 'starttls', 'none'] as const;
const PASSWORD_FLAGS = '--password-env VAR, --password-file FILE, --password-stdin or --password-cmd CMD';

export async function run(ctx: CliContext, args: unknown[], options: Options): Promise<number> {
  // Checks and discovery reports for settings not saved: their own module.
  if (options.diagnose || options.explain) return (await import('./connect-diagnose.js')).run(ctx, args, options);
  const sources = [options.passwordEnv, options.passwordFile, options.passwordStdin, options.passwordCmd].filter((v) => v !== undefined && v !== false);
  if (sources.length > 1) throw new MailopsError('USAGE', `give one password source, not ${sources.length}`, { hint: `one of ${PASSWORD_FLAGS}` });
  const caFile = options.caFile === undefined ? undefined : checkReadable(resolve(options.caFile), '--ca-file');

  return withSession(ctx, async (session) => {
    const requestedName = (args[0] as string | undefined) ?? options.account;
    const existing = requestedName ? session.accounts.get(validateAccountName(requestedName)) : null;
    const old = existing?.config ?? null;

    // A Gmail account over the API may leave the address to its profile (users.getProfile): asked after the sign-in.
    const given = options.email ?? old?.email;
    const fromProfile = given === undefined && options.provider === 'gmail' && options.backend !== 'imap';
    const email = fromProfile ? null : validateEmail(given ?? (await askText(ctx, 'Email address:', '--email')));
    const provider = options.provider ?? old?.provider ?? guessProvider(email!);
    if (provider === 'imap' && (options.backend !== undefined || options.readOnly || options.scopeFull)) {
      throw new MailopsError('USAGE', '--backend, --read-only and --scope-full apply to gmail and outlook accounts', {
        hint: 'an IMAP account always speaks IMAP and SMTP',
      });
    }
    if (provider !== 'imap') {
      // Gmail and Outlook sign in with OAuth: src/cli/oauth-connect.ts and src/core/oauth-connect.ts.
      const { connectOAuth } = await import('../oauth-connect.js');
      return connectOAuth(ctx, session, { requestedName, email, provider, existing: old, caFile, passwordSources: sources.length, options });
    }
    if (email === null) throw new MailopsError('MISSING_INPUT', 'an email address is required');
    const name = validateAccountName(requestedName ?? email);
    const repairing = existing ?? session.accounts.get(name);
    const previous = repairing?.config ?? null;

    // Hosts neither given nor kept from a repair are discovered (autoconfig, DNS SRV, MX, probing).
    const { discoverForConnect } = await import('./connect-diagnose.js');
    const found = await discoverForConnect(ctx, email, { imap: !options.imapHost && !previous, smtp: !options.smtpHost && !previous }, { caFile, insecure: options.insecure === true });
    const imap = resolveEndpoint('imap', await endpointInput(ctx, 'imap', email, options.imapHost, options.imapPort, options.imapTls, previous !== null, found.imap), previous?.imap ?? found.imap, email);
    const smtp = resolveEndpoint('smtp', await endpointInput(ctx, 'smtp', email, options.smtpHost, options.smtpPort, options.smtpTls, previous !== null, found.smtp), previous?.smtp ?? found.smtp, email);

    const config = buildAccountConfig(
      {
        name,
        email,
        user: options.user ?? found.user,
        provider,
        imap,
        smtp,
        insecure: options.insecure,
        caFile,
        secretStore: options.secretStore,
        // A new password source replaces a stored command; --password-cmd replaces a stored password.
        passwordCommand: options.passwordCmd ?? (sources.length ? null : undefined),
        priority: options.priority,
      },
      previous,
    );

    const { connectPasswordAccount } = await import('../../core/connect-password.js');
    const { account: saved, repaired } = await connectPasswordAccount(session, {
      config,
      previous,
      makeDefault: options.default === true,
      password: (kept) => readPassword(ctx, options, kept),
      ui: { note: (message) => !ctx.isMachineOutput && ctx.note(message), warn: (message) => ctx.warn(message) },
      signal: ctx.signal,
    });
    if (ctx.isMachineOutput) {
      printJson(ctx, { account: accountJson(config, saved.config.isDefault, repaired) });
    } else {
      ctx.note(`${repaired ? 'Repaired' : 'Connected'} ${name} <${email}>${saved.config.isDefault ? ' (default account)' : ''}`);
    }
    return 0;
  });
}

/** On a TTY, asks for what the flags did not give; otherwise defaults apply (resolveEndpoint). */
async function endpointInput(
  ctx: CliContext,
  kind: 'imap' | 'smtp',
  email: string,
  host: string | undefined,
  port: number | undefined,
  tls: TlsMode | undefined,
  repairing: boolean,
  discovered?: ServerEndpoint,
): Promise<EndpointInput> {
  if (!ctx.canPrompt || repairing || discovered || (host !== undefined && (port !== undefined || tls !== undefined))) return { host, port, tls };
  const label = kind.toUpperCase();
  const askedHost = host ?? (await askText(ctx, `${label} server:`, `--${kind}-host`, { default: `${kind}.${domainOf(email)}` }));
  const askedTls = tls ?? (await askChoice(ctx, `${label} TLS mode:`, `--${kind}-tls`, TLS_MODES, 'implicit'));
  const defaultPort = kind === 'imap' ? (askedTls === 'implicit' ? 993 : 143) : askedTls === 'implicit' ? 465 : 587;
  const askedPort =
    port ??
    Number(
      await askText(ctx, `${label} port:`, `--${kind}-port`, {
        default: String(defaultPort),
        validate: (v) => (/^\d+$/.test(v) && Number(v) > 0 && Number(v) < 65536 ? true : 'a port number, 1-65535'),
      }),
    );
  return { host: askedHost, port: askedPort, tls: askedTls };
}

async function readPassword(ctx: CliContext, options: Options, stored: (() => Promise<string | null>) | null): Promise<string> {
  const { readPasswordFromSource } = await import('../../secrets/password-input.js');
  const io = { stdin: ctx.io.stdin, env: ctx.env, warn: (m: string) => ctx.warn(m) };
  if (options.passwordEnv !== undefined) return readPasswordFromSource({ kind: 'env', name: options.passwordEnv }, io);
  if (options.passwordFile !== undefined) return readPasswordFromSource({ kind: 'file', path: options.passwordFile }, io);
  if (options.passwordStdin) return readPasswordFromSource({ kind: 'stdin' }, io);
  // Repairing without a new password: keep the one we have.
  const kept = stored ? await stored() : null;
  if (kept) return kept;
  if (!ctx.canPrompt) throw new MailopsError('MISSING_INPUT', 'a password is required', { hint: `pass ${PASSWORD_FLAGS}` });
  return askPassword(ctx, 'Password:', '--password-stdin');
}

function checkReadable(path: string, flag: string): string {
  try {
    accessSync(path, constants.R_OK);
    return path;
  } catch {
    throw new MailopsError('INVALID_VALUE', `cannot read ${flag} ${path}`);
  }
}
