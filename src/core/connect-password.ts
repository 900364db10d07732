/**
 * Connecting (or repairing) a password account once its settings are known: the secret store is
 * proven writable, the login tested (IMAP, then SMTP), and only then the secret and the account
 * saved; leftovers of the previous configuration are removed. Where the password comes from (flags,
 * stdin, the stored one, a prompt) is the caller's business: core never prompts.
 */
import type { AccountConfig, ServerEndpoint } from '../domain/types.js';
import type { StoredAccount } from '../store/accounts.js';
import { PASSWORD_KEY, type Session } from './session.js';

export interface PasswordConnectHooks {
  /**
   * The password to test and store. `kept` reads the one already stored when the account is being
   * repaired in the same store (null otherwise), so a repair can keep it.
   */
  password(kept: (() => Promise<string | null>) | null): Promise<string>;
  /** A login worked: the CLI tells the user, scripts get it in the JSON later. */
  loginOk(protocol: 'IMAP' | 'SMTP', endpoint: ServerEndpoint, latencyMs: number): void;
  warn(message: string): void;
}

export interface PasswordConnectResult {
  saved: StoredAccount;
  /** An existing account was changed rather than a new one added. */
  repaired: boolean;
}

export async function connectPasswordAccount(
  session: Session,
  config: AccountConfig,
  previous: AccountConfig | null,
  makeDefaultAsked: boolean,
  hooks: PasswordConnectHooks,
  signal: AbortSignal,
): Promise<PasswordConnectResult> {
  const name = config.name;
  // The store must be usable before we test the login: failing after a successful
  // login would leave the user with nothing saved and a confusing order of errors.
  const store = config.passwordCommand ? null : await session.secretStore(config.secretStore);
  // Opening proves the keychain answers; some fail only on write (no default collection).
  await store?.checkWritable();

  let password: string | null = null;
  if (!config.passwordCommand) {
    password = await hooks.password(previous && previous.secretStore === config.secretStore && !previous.passwordCommand ? async () => store!.get(name, PASSWORD_KEY) : null);
  }
  const credentials = password !== null ? { kind: 'password' as const, user: config.user, password } : await session.credentials(config);

  const client = await session.provider(config, credentials);
  const imapCheck = await client.verify(signal);
  hooks.loginOk('IMAP', config.imap, imapCheck.latencyMs);
  const smtpCheck = await client.verifySend(signal);
  hooks.loginOk('SMTP', config.smtp, smtpCheck.latencyMs);

  // An OAuth account turned into a password one: its tokens and client secret go.
  if (previous && previous.provider !== 'imap') {
    await session.secretStore(previous.secretStore).then((s) => s.deleteAccount(name)).catch(() => hooks.warn(`could not remove the OAuth secrets of ${name}`));
  }
  // Save: the secret first (so the account never exists without it), then the row.
  if (store && password !== null) await store.set(name, PASSWORD_KEY, password);
  const makeDefault = makeDefaultAsked || session.accounts.list().length === 0;
  try {
    session.accounts.save(config, makeDefault);
  } catch (error) {
    if (store && !previous) await store.delete(name, PASSWORD_KEY).catch(() => undefined);
    throw error;
  }
  // Secrets left behind by the previous configuration (another store, or now a command).
  if (previous && !previous.passwordCommand && (config.passwordCommand || previous.secretStore !== config.secretStore)) {
    await session
      .secretStore(previous.secretStore)
      .then((s) => s.delete(name, PASSWORD_KEY))
      .catch(() => hooks.warn(`could not remove the old password of ${name} from the ${previous.secretStore} store`));
  }
  return { saved: session.accounts.get(name)!, repaired: previous !== null };
}
