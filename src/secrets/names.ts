/** Secret names: shared by the keychain and the encrypted file. */

/**
 * Keys are fixed names chosen by the code ('password', 'refresh_token', 'msal_cache'), never user
 * input. Keeping them to [a-z0-9_] makes `account:key` unambiguous even when an account name
 * contains a colon, which deleteAccount relies on.
 */
export function assertSecretName(account: string, key: string): void {
  if (account.length === 0) throw new TypeError('secret store: empty account name');
  if (!/^[a-z][a-z0-9_]*$/.test(key)) throw new TypeError(`secret store: invalid key name ${JSON.stringify(key)}`);
}
