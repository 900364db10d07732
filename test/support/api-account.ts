// An account (the Gmail API, Microsoft Graph, or a password one on IMAP) written into a MAILOPS_HOME the way `connect
// --backend api` leaves it (the account row, and the access token in the encrypted file store),
// without the browser consent: for the conformance harnesses and the benchmarks, whose subject is
// not connect. The token is the fake's own, valid for a day, so no refresh is needed (nor, for
// Graph, an MSAL cache).
import type { AccountConfig } from '../../src/domain/types.js';
import { SECRET_KEYS, encodeAccessToken } from '../../src/auth/sign-in.js';
import { openSecretStore } from '../../src/secrets/store.js';
import { AccountRepository } from '../../src/store/accounts.js';
import { openDatabase } from '../../src/store/db.js';

export interface SeededAccount {
  name?: string;
  email: string;
  token: string;
  scopes: string[];
  passphrase: string;
}

export async function seedApiAccount(home: string, kind: 'gmail' | 'graph', opts: SeededAccount): Promise<void> {
  const name = opts.name ?? 'main';
  const config: AccountConfig = {
    name, provider: kind === 'gmail' ? 'gmail' : 'outlook', backend: kind, email: opts.email, user: opts.email, imap: null, smtp: null, insecure: false, caFile: null,
    secretStore: 'file', passwordCommand: null, priority: 0, isDefault: true, createdAt: new Date().toISOString(),
    oauth: {
      clientId: kind === 'gmail' ? 'seeded.apps.googleusercontent.com' : '00000000-0000-0000-0000-00000000c0de',
      hasClientSecret: false, tenant: kind === 'gmail' ? null : 'common', redirectUri: null,
      scopes: opts.scopes, grantedScopes: opts.scopes, grantedAt: new Date().toISOString(), endpoints: null, homeAccountId: null,
    },
  };
  await save(home, config, opts.passphrase, SECRET_KEYS.accessToken, encodeAccessToken(opts.token, new Date(Date.now() + 24 * 3600_000)));
}

/** A password account on an IMAP server (and an SMTP one that need not exist), as connect saves it, without connect's login check. */
export async function seedPasswordAccount(home: string, opts: { name?: string; email: string; imap: AccountConfig['imap']; smtp: AccountConfig['smtp']; password: string; passphrase: string }): Promise<void> {
  const name = opts.name ?? 'main';
  const config: AccountConfig = {
    name, provider: 'imap', backend: 'imap', email: opts.email, user: opts.email, imap: opts.imap, smtp: opts.smtp, insecure: false, caFile: null,
    secretStore: 'file', passwordCommand: null, priority: 0, isDefault: true, createdAt: new Date().toISOString(), oauth: null,
  };
  await save(home, config, opts.passphrase, 'password', opts.password);
}

/** The account row, then its one secret in the encrypted file store. */
async function save(home: string, config: AccountConfig, passphrase: string, key: string, secret: string): Promise<void> {
  const db = openDatabase(home);
  try {
    new AccountRepository(db).save(config, true);
  } finally {
    db.close();
  }
  const store = await openSecretStore('file', { home, env: { MAILOPS_PASSPHRASE: passphrase } });
  await store.set(config.name, key, secret);
}
