/**
 * The secret store: where passwords, refresh tokens and token caches live, per
 * MAILOPS_HOME. Two kinds: the OS keychain (default) and an encrypted file for
 * hosts without one. There is no plaintext fallback, by design: a store that
 * cannot be opened is an error the user must resolve.
 *
 * The keychain is loaded lazily, so that commands which never touch a secret
 * never load the keyring's native module. The encrypted file is small and
 * imported statically: opening it reaches the key derivation without waiting
 * for more modules to load. (Neither is on the path of `--help`.)
 */
import type { SecretStoreKind } from '../domain/types.js';
import { openEncryptedFileStore } from './encrypted-file.js';

export type { SecretStoreKind };

export interface SecretStore {
  readonly kind: SecretStoreKind;
  /** The value, or null when nothing is stored under that account and key. */
  get(account: string, key: string): Promise<string | null>;
  /** Creates or replaces. Values may be large (a token cache is tens of KB). */
  set(account: string, key: string, value: string): Promise<void>;
  /** Removes one key; removing a key that is not there is not an error. */
  delete(account: string, key: string): Promise<void>;
  /** Removes every key of the account (disconnect), whichever keys were ever written. */
  deleteAccount(account: string): Promise<void>;
  /**
   * Proves that a write would succeed now, without leaving anything behind. `connect` calls it
   * before testing a login, so that a store that can be read but not written (a keychain with no
   * default collection, a read-only home) fails before anything is sent to a server.
   */
  checkWritable(): Promise<void>;
}

export interface OpenSecretStoreOptions {
  /** MAILOPS_HOME: the keychain entries are scoped to it, the encrypted file lives in it. */
  home: string;
  /** For the file store; when null or absent, MAILOPS_PASSPHRASE from `env` is used. */
  passphrase?: string | null | undefined;
  env: NodeJS.ProcessEnv;
}

/**
 * Opens a store and checks that it can be used: the keychain answers, or the passphrase opens
 * the existing file. Failures are MailopsErrors (SECRET_STORE_UNAVAILABLE, MISSING_INPUT).
 */
export async function openSecretStore(kind: SecretStoreKind, opts: OpenSecretStoreOptions): Promise<SecretStore> {
  if (kind === 'keychain') {
    const { openKeychainStore } = await import('./keychain.js');
    return openKeychainStore(opts.home);
  }
  const passphrase = opts.passphrase || opts.env.MAILOPS_PASSPHRASE || null;
  return openEncryptedFileStore(opts.home, passphrase);
}
