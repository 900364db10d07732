/**
 * One command's access to state: the database (opened on first use), the
 * account it acts on, its secrets and its provider. Everything heavy is
 * imported lazily from here, so commands stay thin and `--help` stays light.
 */
import { MailopsError } from '../domain/errors.js';
import type { AccountConfig, SecretStoreKind } from '../domain/types.js';
import type { BackendDefinition, Credentials, MailProvider, ProviderRuntime } from '../domain/provider.js';
import { openDatabase, type Database } from '../store/db.js';
import { AccountRepository, type StoredAccount } from '../store/accounts.js';
import { FolderRepository } from '../store/folders.js';
import { backendFor } from '../providers/registry.js';
import { FolderResolver } from './folder-resolver.js';
import type { SecretStore } from '../secrets/store.js';
import type { Redactor } from './redact.js';

export const PASSWORD_KEY = 'password';

export interface SessionOptions {
  home: string;
  env: NodeJS.ProcessEnv;
  runtime: ProviderRuntime;
  redactor: Redactor;
  /** Ctrl-C: reaches password commands too (they run in their own process group). */
  signal?: AbortSignal | undefined;
  /** --passphrase-file, for the encrypted secret file. */
  passphraseFile?: string | undefined;
}

export class Session {
  private database: Database | null = null;
  private readonly stores = new Map<SecretStoreKind, SecretStore>();
  private readonly providers: MailProvider[] = [];

  constructor(readonly options: SessionOptions) {}

  get db(): Database {
    this.database ??= openDatabase(this.options.home);
    return this.database;
  }

  get accounts(): AccountRepository {
    return new AccountRepository(this.db);
  }

  get folders(): FolderRepository {
    return new FolderRepository(this.db);
  }

  /** -a NAME, else MAILOPS_ACCOUNT, else the default account. */
  resolveAccount(name: string | undefined): StoredAccount {
    const wanted = name ?? this.options.env.MAILOPS_ACCOUNT ?? undefined;
    if (wanted) {
      const account = this.accounts.get(wanted);
      if (!account) {
        const known = this.accounts.list().map((a) => a.config.name);
        throw new MailopsError('ACCOUNT_NOT_FOUND', `no account named ${wanted}`, {
          hint: known.length ? `accounts: ${known.join(', ')}` : 'add one with mailops connect',
        });
      }
      return account;
    }
    const account = this.accounts.getDefault();
    if (!account) {
      throw new MailopsError('ACCOUNT_NOT_FOUND', 'no account is connected', { hint: 'add one with mailops connect' });
    }
    return account;
  }

  /** The accounts named (every one for none), in priority order; an unknown name is an error. */
  selectAccounts(names: readonly string[]): StoredAccount[] {
    const all = this.accounts.list();
    const missing = names.filter((n) => !all.some((a) => a.config.name === n));
    if (missing.length) {
      throw new MailopsError('ACCOUNT_NOT_FOUND', `no account named ${missing.join(', ')}`, {
        hint: all.length ? `accounts: ${all.map((a) => a.config.name).join(', ')}` : 'add one with mailops connect',
      });
    }
    return names.length ? all.filter((a) => names.includes(a.config.name)) : all;
  }

  async secretStore(kind: SecretStoreKind): Promise<SecretStore> {
    const cached = this.stores.get(kind);
    if (cached) return cached;
    // Loaded here, not with the session: with node:crypto (whose import as an ES module costs
    // about 5 ms) they cost an --offline command, which needs no secret, 5-10 ms. A sync has
    // them already (src/secrets/unlock-early.ts); the key derivation still runs on libuv's
    // threads while the provider's modules load.
    const [{ openSecretStore }, { resolvePassphrase }] = await Promise.all([import('../secrets/store.js'), import('../secrets/passphrase.js')]);
    const passphrase = kind === 'file' ? resolvePassphrase({ env: this.options.env, file: this.options.passphraseFile }) : null;
    const store = await openSecretStore(kind, { home: this.options.home, passphrase, env: this.options.env });
    this.stores.set(kind, store);
    return store;
  }

  /** The password of an account: its stored secret, or the output of its password command. */
  async credentials(config: AccountConfig): Promise<Credentials> {
    if (config.provider !== 'imap') {
      // Gmail and Outlook: an OAuth access token, refreshed silently (src/auth).
      const { oauthCredentials } = await import('./oauth.js');
      return oauthCredentials(this, config);
    }
    let password: string | null;
    if (config.passwordCommand) {
      const { runPasswordCommand } = await import('../secrets/password-command.js');
      password = await runPasswordCommand(config.passwordCommand, { timeoutMs: this.options.runtime.timeoutMs, signal: this.options.signal });
    } else {
      const store = await this.secretStore(config.secretStore);
      password = await store.get(config.name, PASSWORD_KEY);
    }
    if (!password) {
      throw new MailopsError('SECRET_MISSING', `no password is stored for ${config.name}`, {
        hint: `run mailops connect ${config.name} again`,
      });
    }
    this.options.redactor.add(password);
    return { kind: 'password', user: config.user, password };
  }

  /**
   * A provider for the account from its backend (src/providers/registry.ts), closed with the session.
   * `connectAhead` (sync): the backend connects while the credentials are unlocked.
   */
  async provider(config: AccountConfig, credentials?: Credentials, options: { connectAhead?: boolean } = {}): Promise<MailProvider> {
    if (config.insecure) {
      this.options.runtime.warn(`TLS certificate verification is off for ${config.name} (--insecure)`);
    }
    for (const warning of cleartextWarnings(config)) this.options.runtime.warn(warning);
    const backend = backendFor(config.backend);
    // The backend's code loads (and its TLS set-up runs) while the secret file's key is derived on
    // libuv's threads.
    const preparing = backend.prepare?.(config, this.options.runtime, { connectAhead: options.connectAhead === true });
    try {
      const [creds, prepared] = await Promise.all([credentials ?? this.credentials(config), preparing]);
      const provider = await backend.create(config, creds, this.options.runtime, prepared);
      this.providers.push(provider);
      return provider;
    } catch (error) {
      // A connection made ahead is not left open behind a secret that could not be had.
      void preparing?.then((prepared) => prepared?.discard(), () => undefined);
      throw error;
    }
  }

  /**
   * Drops what the cache holds for an account's mail (messages, folders, sync state), keeping the
   * account and its --on-new record: for a switch of backend, whose ids name other things.
   */
  async forgetCachedMail(account: string): Promise<void> {
    const { MessageCache } = await import('../store/cache.js');
    new MessageCache(this.db).forgetAccount(account);
    this.folders.replace(account, []);
  }

  /** The account's backend as the registry declares it: its id codec and capabilities. */
  backend(config: AccountConfig): BackendDefinition {
    return backendFor(config.backend);
  }

  /**
   * Resolves folder paths and @roles for the account (src/core/folder-resolver.ts): from the
   * cached folder list, and with `provider` (or a function making one) from the server on a miss
   * (cached for next time).
   */
  folderResolver(config: AccountConfig, provider: MailProvider | (() => Promise<MailProvider>) | null): FolderResolver {
    const signal = this.options.signal ?? new AbortController().signal;
    return new FolderResolver(this.backend(config).capabilities, {
      cached: () => this.folders.list(config.name).folders,
      live: provider
        ? async () => {
            // A function: the provider is made only when the cached list cannot answer.
            const live = typeof provider === 'function' ? await provider() : provider;
            const folders = await live.listFolders(signal);
            this.folders.replace(config.name, folders);
            return folders;
          }
        : null,
    });
  }

  /** Closes one provider (a failed connection, before a retry opens a new one). */
  async closeProvider(provider: MailProvider): Promise<void> {
    const index = this.providers.indexOf(provider);
    if (index >= 0) this.providers.splice(index, 1);
    await provider.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    const closing = Promise.allSettled(this.providers.splice(0).map((p) => p.close()));
    // The database closes (its last WAL checkpoint, tens of milliseconds after a sync stored
    // new mail) while the providers' LOGOUTs travel; one turn of the event loop first, so
    // that the goodbyes are on the wire.
    await new Promise((resolve) => setImmediate(resolve));
    this.database?.close();
    this.database = null;
    await closing;
  }
}

/**
 * Servers an account logs in to without TLS (`--imap-tls none`, `--smtp-tls none`): its password
 * or token crosses the network in clear. Said at connect and at each use, like --insecure.
 */
export function cleartextWarnings(config: AccountConfig): string[] {
  const what = config.oauth ? 'OAuth token' : 'password';
  const out: string[] = [];
  for (const [protocol, endpoint] of [['IMAP', config.imap], ['SMTP', config.smtp]] as const) {
    if (endpoint?.tls !== 'none') continue;
    // On the machine itself nothing crosses a network.
    if (/^(127\.|::1$|localhost$)/i.test(endpoint.host)) continue;
    out.push(`the ${what} of ${config.name} goes to ${protocol} server ${endpoint.host}:${endpoint.port} without TLS (--${protocol.toLowerCase()}-tls none): anyone on the way can read it`);
  }
  return out;
}
