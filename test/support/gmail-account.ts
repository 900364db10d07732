// A Gmail API account written into a MAILOPS_HOME the way `connect --backend api` leaves it (the
// account row, and the access token in the encrypted file store), without the browser consent:
// for the conformance harness and the Gmail benchmark, whose subject is not connect. The token
// is the Gmail fake's own (GmailServer.token), valid for a day, so no refresh is needed.
import type { AccountConfig } from '../../src/domain/types.js';
import { SECRET_KEYS, encodeAccessToken } from '../../src/auth/sign-in.js';
import { openSecretStore } from '../../src/secrets/store.js';
import { AccountRepository } from '../../src/store/accounts.js';
import { openDatabase } from '../../src/store/db.js';

export async function seedGmailApiAccount(home: string, opts: { name?: string; email: string; token: string; scopes: string[]; passphrase: string }): Promise<void> {
  const name = opts.name ?? 'main';
  const config: AccountConfig = {
    name, provider: 'gmail', backend: 'gmail', email: opts.email, user: opts.email, imap: null, smtp: null, insecure: false, caFile: null,
    secretStore: 'file', passwordCommand: null, priority: 0, isDefault: true, createdAt: new Date().toISOString(),
    oauth: { clientId: 'seeded.apps.googleusercontent.com', hasClientSecret: false, tenant: null, redirectUri: null, scopes: opts.scopes, grantedScopes: opts.scopes, grantedAt: new Date().toISOString(), endpoints: null, homeAccountId: null },
  };
  const db = openDatabase(home);
  try {
    new AccountRepository(db).save(config, true);
  } finally {
    db.close();
  }
  const store = await openSecretStore('file', { home, env: { MAILOPS_PASSPHRASE: opts.passphrase } });
  await store.set(name, SECRET_KEYS.accessToken, encodeAccessToken(opts.token, new Date(Date.now() + 24 * 3600_000)));
}
