/**
 * Connecting (or repairing) a password account, once its settings are known: the login is tested
 * on IMAP and SMTP before anything is saved, and on any failure nothing is. The CLI gathers the
 * settings (flags, discovery, prompts) and prints; OAuth accounts go through ./oauth-connect.ts.
 */
import type { AccountConfig } from '../domain/types.js';
import type { Credentials } from '../domain/provider.js';
import { endpointText } from './accounts.js';
import { PASSWORD_KEY, type Session } from './session.js';
import type { StoredAccount } from '../store/accounts.js';

export interface PasswordConnect {
  config: AccountConfig;
  /** The account as it was, when this repairs one (same name). */
  previous: AccountConfig | null;
  /** `connect --default`; the first account becomes the default anyway. */
  makeDefault: boolean;
  /**
   * The password to log in with (not called for an account with a password command). `kept`
   * reads the one stored for a repair in the same store, null when there is none.
   */
  password(kept: (() => Promise<string | null>) | null): Promise<string>;
  /** Notes and warnings for people; none of them carries a secret. */
  ui: { note(message: string): void; warn(message: string): void };
  signal: AbortSignal;
}

export interface PasswordConnected {
  account: StoredAccount;
  repaired: boolean;
}

export async function connectPasswordAccount(session: Session, request: PasswordConnect): Promise<PasswordConnected> {
  const { config, previous, ui, signal } = request;
  const name = config.name;
  // The store must be usable before we test the login: failing after a successful
  // login would leave the user with nothing saved and a confusing order of errors.
  const store = config.passwordCommand ? null : await session.secretStore(config.secretStore);
  // Opening proves the keychain answers; some fail only on write (no default collection).
  await store?.checkWritable();

  let password: string | null = null;
  if (!config.passwordCommand) {
    const sameStore = previous !== null && previous.secretStore === config.secretStore && !previous.passwordCommand;
    password = await request.password(sameStore ? async () => store!.get(name, PASSWORD_KEY) : null);
    session.options.redactor.add(password);
  }
  const credentials: Credentials =
    password !== null ? { kind: 'password', user: config.user, password } : await session.credentials(config);

  const client = await session.provider(config, credentials);
  const imapCheck = await client.verify(signal);
  ui.note(`IMAP login ok: ${endpointText(config.imap)}, ${imapCheck.latencyMs} ms`);
  const smtpCheck = await client.verifySend(signal);
  ui.note(`SMTP login ok: ${endpointText(config.smtp)}, ${smtpCheck.latencyMs} ms`);

  // An OAuth account turned into a password one: its tokens and client secret go.
  if (previous && previous.provider !== 'imap') {
    await session
      .secretStore(previous.secretStore)
      .then((s) => s.deleteAccount(name))
      .catch(() => ui.warn(`could not remove the OAuth secrets of ${name}`));
  }
  // Save: the secret first (so the account never exists without it), then the row.
  if (store && password !== null) await store.set(name, PASSWORD_KEY, password);
  const makeDefault = request.makeDefault || session.accounts.list().length === 0;
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
      .catch(() => ui.warn(`could not remove the old password of ${name} from the ${previous.secretStore} store`));
  }
  return { account: session.accounts.get(name)!, repaired: previous !== null };
}
