/**
 * The OS keychain (macOS Keychain, Windows Credential Manager, the Secret Service on Linux)
 * through @napi-rs/keyring.
 *
 * Entries are `service = mailops:<hash of the home's real path>`, `username = account:key`, so
 * two MAILOPS_HOME folders never see each other's secrets, even for accounts of the same name.
 *
 * On Linux the entries are pinned to the Secret Service: left to itself the library falls back
 * silently to the kernel keyring, which forgets everything at reboot.
 *
 * What the library does when the keychain is missing (measured with 2.1.2): with no D-Bus
 * session, or no Secret Service on it, the entry constructor throws within milliseconds; a
 * Secret Service that never answers makes it throw after libdbus's 2 s timeout. A locked keyring
 * asks for an unlock prompt, which fails at once without a display but on a desktop waits for
 * the user, so every operation is bounded by OPERATION_TIMEOUT_MS.
 */
import { createHash, randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import type { AsyncEntry } from '@napi-rs/keyring';
import { MailopsError } from '../domain/errors.js';
import { assertSecretName } from './names.js';
import type { SecretStore } from './store.js';

type KeyringModule = typeof import('@napi-rs/keyring');

/** Long enough to type a keyring password into an unlock prompt, short enough for cron. */
const OPERATION_TIMEOUT_MS = 60_000;
const ENTRY_OPTIONS = { linux: { store: 'secret-service' as const } };
const UNAVAILABLE_HINT = 'on hosts without a keychain use --secret-store file with MAILOPS_PASSPHRASE (or --passphrase-file)';
/** Has no colon, so it can never be mistaken for an `account:key` entry. */
const PROBE_USERNAME = 'mailops-write-probe';

/** `mailops:` and 8 hex digits of the SHA-256 of the home's real path. */
export function keychainServiceName(home: string): string {
  return `mailops:${createHash('sha256').update(realPathOf(home)).digest('hex').slice(0, 8)}`;
}

/**
 * The real path even before the home exists (connect may open the store first): the nearest
 * existing ancestor resolved, the rest appended. Once created, the home resolves the same way.
 */
function realPathOf(path: string): string {
  const absolute = resolve(path);
  try {
    return realpathSync(absolute);
  } catch {
    const parent = dirname(absolute);
    return parent === absolute ? absolute : join(realPathOf(parent), basename(absolute));
  }
}

export async function openKeychainStore(home: string): Promise<SecretStore> {
  let keyring: KeyringModule;
  try {
    // Required, not imported: as an ES module import this CommonJS addon took 27 ms in a fresh
    // process against 10 ms (median of 12), paid by every command that reads a secret.
    keyring = createRequire(import.meta.url)('@napi-rs/keyring') as KeyringModule;
  } catch (error) {
    throw unavailable(`the keyring module could not be loaded (${firstLine(error)})`, error);
  }
  const store = new KeychainStore(keyring, keychainServiceName(home));
  // Constructing an entry connects to the keychain: this is where a missing D-Bus session or
  // Secret Service shows up, before any command relies on the store.
  store.entry(PROBE_USERNAME);
  return store;
}

class KeychainStore implements SecretStore {
  readonly kind = 'keychain' as const;
  private readonly entries = new Map<string, AsyncEntry>();

  constructor(
    private readonly keyring: KeyringModule,
    private readonly service: string,
  ) {}

  async get(account: string, key: string): Promise<string | null> {
    assertSecretName(account, key);
    const entry = this.entry(`${account}:${key}`);
    return guarded((signal) => entry.getPassword(signal));
  }

  async set(account: string, key: string, value: string): Promise<void> {
    assertSecretName(account, key);
    const entry = this.entry(`${account}:${key}`);
    await guarded((signal) => entry.setPassword(value, signal));
  }

  async delete(account: string, key: string): Promise<void> {
    assertSecretName(account, key);
    const entry = this.entry(`${account}:${key}`);
    await guarded((signal) => entry.deleteCredential(signal));
  }

  async deleteAccount(account: string): Promise<void> {
    const prefix = `${account}:`;
    const credentials = await guarded((signal) => this.keyring.findCredentialsAsync(this.service, null, signal));
    for (const { account: username } of credentials) {
      if (!username.startsWith(prefix)) continue;
      const key = username.slice(prefix.length);
      // An entry of account "a:b" also starts with "a:"; keys never contain a colon.
      if (key.includes(':')) continue;
      await this.delete(account, key);
    }
  }

  async checkWritable(): Promise<void> {
    const entry = this.entry(PROBE_USERNAME);
    await guarded((signal) => entry.setPassword(randomBytes(8).toString('hex'), signal));
    await guarded((signal) => entry.deleteCredential(signal));
  }

  /** One entry per username: constructing one costs a D-Bus round trip. */
  entry(username: string): AsyncEntry {
    let entry = this.entries.get(username);
    if (!entry) {
      try {
        entry = new this.keyring.AsyncEntry(this.service, username, ENTRY_OPTIONS);
      } catch (error) {
        throw translate(error);
      }
      this.entries.set(username, entry);
    }
    return entry;
  }
}

/** Runs one keychain call with a deadline, turning its failures into MailopsErrors. */
async function guarded<T>(operation: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(unavailable(`it did not answer within ${OPERATION_TIMEOUT_MS / 1000} s (is an unlock prompt waiting?)`));
    }, OPERATION_TIMEOUT_MS);
  });
  try {
    return await Promise.race([operation(controller.signal), deadline]);
  } catch (error) {
    throw translate(error);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The library's messages are D-Bus jargon ("Platform failure: DBus error: ..."); say what is
 * wrong in the user's terms. They never contain the secret: the library does not echo values.
 */
function translate(error: unknown): MailopsError {
  if (error instanceof MailopsError) return error;
  const detail = firstLine(error).replace(/^(Platform failure|Couldn't access platform storage): /, '');
  const known: Array<[RegExp, string]> = [
    [/DBUS_SESSION_BUS_ADDRESS|autolaunch/, 'there is no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set)'],
    [/Failed to connect to (socket|address)/, `cannot connect to the D-Bus session bus (${detail})`],
    [
      /org\.freedesktop\.secrets|ServiceUnknown|not provided by any/,
      'no Secret Service (gnome-keyring, KWallet, KeePassXC) is running in this D-Bus session',
    ],
    [/Did not receive a reply|[Tt]imed? ?out/, 'the Secret Service did not answer'],
    [/prompt was dismissed|is locked/, 'the keyring is locked and was not unlocked (the unlock prompt was dismissed or could not be shown)'],
    [/no result found/, 'the Secret Service has no default keyring to store into (create and unlock a "login" keyring)'],
  ];
  for (const [pattern, why] of known) {
    if (pattern.test(detail)) return unavailable(why, error);
  }
  return new MailopsError('SECRET_STORE_UNAVAILABLE', `the OS keychain failed: ${detail}`, { hint: UNAVAILABLE_HINT, cause: error });
}

function unavailable(why: string, cause?: unknown): MailopsError {
  return new MailopsError('SECRET_STORE_UNAVAILABLE', `the OS keychain is not reachable: ${why}`, {
    hint: UNAVAILABLE_HINT,
    cause,
  });
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split('\n')[0] ?? '').slice(0, 300);
}
