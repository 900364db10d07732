/**
 * The encrypted secret file, for hosts without a keychain: `$MAILOPS_HOME/secrets.enc`, unlocked
 * by a passphrase (MAILOPS_PASSPHRASE or --passphrase-file).
 *
 * Format: a JSON envelope
 *   {version: 1, kdf: 'scrypt', N, r, p, salt, iv, tag, check, data}   (binary fields base64)
 * where scrypt(passphrase, salt) gives 64 bytes: an AES-256-GCM key and a key for `check`, an
 * HMAC that tells a wrong passphrase apart from a damaged file (GCM alone cannot). `data` is the
 * GCM ciphertext of {"accounts": {NAME: {KEY: VALUE}}}, authenticated together with the header
 * fields, so a changed N, salt or version is detected too. The salt stays for the life of the
 * file (so the derived key can be cached); the IV is fresh on every write.
 *
 * Writes are read-modify-write under an exclusive lock (file-lock.ts) and replace the file
 * atomically (atomic-file.ts), mode 0600. A file that cannot be decrypted is never overwritten:
 * every write starts by decrypting what is there.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MailopsError } from '../domain/errors.js';
import { writeFileAtomically } from './atomic-file.js';
import { withFileLock } from './file-lock.js';
import { assertSecretName } from './names.js';
import type { SecretStore } from './store.js';

export const SECRET_FILE_NAME = 'secrets.enc';

/**
 * 2^14 × 8 × 128 bytes = 16 MiB and about 50 ms to derive, once per process: scrypt's
 * parameters for interactive use (Percival; libsodium's "interactive" level). Every command
 * pays this, a cron sync every few minutes included, where 2^15 doubled the cost of a sync
 * that finds nothing new. Files keep the parameters they were written with.
 */
const KDF_DEFAULTS = { N: 2 ** 14, r: 8, p: 1 } as const;
/** Bounds on what a file may ask for, so a crafted file cannot make us allocate gigabytes. */
const KDF_LIMITS = { minN: 2 ** 10, maxN: 2 ** 20, maxR: 32, maxP: 16 } as const;
const CHECK_LABEL = 'mailops secret file passphrase check';

interface Envelope {
  version: 1;
  kdf: 'scrypt';
  N: number;
  r: number;
  p: number;
  salt: string;
  iv: string;
  tag: string;
  check: string;
  data: string;
}

type KdfParams = Pick<Envelope, 'N' | 'r' | 'p' | 'salt'>;
type SecretMap = Map<string, Map<string, string>>;

interface DerivedKeys {
  cipherKey: Buffer;
  check: Buffer;
}

export interface EncryptedFileOptions {
  /** How long a write waits for another process's lock before failing with BUSY. */
  lockTimeoutMs?: number;
}

/**
 * Opens the store; when the file exists, decrypts it once to prove the passphrase is right
 * before anything relies on it.
 */
export async function openEncryptedFileStore(
  home: string,
  passphrase: string | null | undefined,
  options: EncryptedFileOptions = {},
): Promise<SecretStore> {
  if (!passphrase) {
    throw new MailopsError('MISSING_INPUT', 'the encrypted secret file needs a passphrase', {
      hint: 'set MAILOPS_PASSPHRASE, or pass --passphrase-file FILE',
    });
  }
  const store = new EncryptedFileStore(home, passphrase, options);
  await store.load();
  return store;
}

class EncryptedFileStore implements SecretStore {
  readonly kind = 'file' as const;
  private readonly path: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly home: string,
    private readonly passphrase: string,
    private readonly options: EncryptedFileOptions,
  ) {
    this.path = join(home, SECRET_FILE_NAME);
  }

  async get(account: string, key: string): Promise<string | null> {
    assertSecretName(account, key);
    // Read fresh every time: another process may have saved a rotated token since.
    const { secrets } = await this.load();
    return secrets.get(account)?.get(key) ?? null;
  }

  async set(account: string, key: string, value: string): Promise<void> {
    assertSecretName(account, key);
    await this.update((secrets) => {
      let keys = secrets.get(account);
      if (!keys) secrets.set(account, (keys = new Map()));
      keys.set(key, value);
      return true;
    });
  }

  async delete(account: string, key: string): Promise<void> {
    assertSecretName(account, key);
    await this.update((secrets) => {
      const keys = secrets.get(account);
      if (!keys?.delete(key)) return false;
      if (keys.size === 0) secrets.delete(account);
      return true;
    });
  }

  async deleteAccount(account: string): Promise<void> {
    await this.update((secrets) => secrets.delete(account));
  }

  /** The passphrase opens the file (if any) and the folder takes new files. */
  async checkWritable(): Promise<void> {
    await this.load();
    try {
      await mkdir(this.home, { recursive: true, mode: 0o700 });
      await access(this.home, constants.W_OK);
    } catch (error) {
      throw new MailopsError('SECRET_STORE_UNAVAILABLE', `cannot write the secret file in ${this.home}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  async load(): Promise<{ envelope: Envelope | null; secrets: SecretMap }> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { envelope: null, secrets: new Map() };
      throw new MailopsError('SECRET_STORE_UNAVAILABLE', `cannot read the secret file ${this.path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const envelope = parseEnvelope(text, this.path);
    const keys = await deriveKeys(this.passphrase, envelope);
    if (!safeEqual(keys.check, Buffer.from(envelope.check, 'base64'))) {
      // SECRET_STORE_UNAVAILABLE (exit 1), not AUTH_FAILED (exit 3): exit 3 tells scripts the
      // mail account needs `connect` again, and `status` would mark accounts needs_reauth. Here
      // no account is at fault; the local passphrase is, and connect would not fix it.
      throw new MailopsError('SECRET_STORE_UNAVAILABLE', 'cannot unlock the secret file: wrong passphrase', {
        hint: `MAILOPS_PASSPHRASE (or --passphrase-file) must be the passphrase ${this.path} was created with`,
      });
    }
    return { envelope, secrets: decrypt(envelope, keys.cipherKey, this.path) };
  }

  /** Read-modify-write under the lock; `mutate` returns false when nothing changed. */
  private update(mutate: (secrets: SecretMap) => boolean): Promise<void> {
    // Writers in this process queue up here instead of polling the lock file against each other.
    const run = this.queue.then(async () => {
      try {
        await mkdir(this.home, { recursive: true, mode: 0o700 });
        const lockOptions = { what: 'the secret file', timeoutMs: this.options.lockTimeoutMs };
        await withFileLock(`${this.path}.lock`, lockOptions, async (lock) => {
          const { envelope, secrets } = await this.load();
          if (!mutate(secrets)) return;
          const sealed = await seal(secrets, this.passphrase, envelope);
          await lock.assertHeld();
          await writeFileAtomically(this.path, JSON.stringify(sealed) + '\n', 0o600);
        });
      } catch (error) {
        if (error instanceof MailopsError) throw error;
        // File system failures (read-only home, disk full): their messages carry paths only.
        throw new MailopsError('SECRET_STORE_UNAVAILABLE', `cannot write the secret file ${this.path}: ${(error as Error).message}`, {
          cause: error,
        });
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}

async function seal(secrets: SecretMap, passphrase: string, previous: Envelope | null): Promise<Envelope> {
  const params: KdfParams = previous ?? { ...KDF_DEFAULTS, salt: randomBytes(16).toString('base64') };
  const keys = await deriveKeys(passphrase, params);
  const iv = randomBytes(12);
  const header = { version: 1 as const, kdf: 'scrypt' as const, N: params.N, r: params.r, p: params.p, salt: params.salt };
  const cipher = createCipheriv('aes-256-gcm', keys.cipherKey, iv);
  cipher.setAAD(associatedData(header));
  const plaintext = JSON.stringify({ accounts: Object.fromEntries([...secrets].map(([name, keys]) => [name, Object.fromEntries(keys)])) });
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return {
    ...header,
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    check: keys.check.toString('base64'),
    data: data.toString('base64'),
  };
}

function decrypt(envelope: Envelope, cipherKey: Buffer, path: string): SecretMap {
  let plaintext: string;
  try {
    const decipher = createDecipheriv('aes-256-gcm', cipherKey, Buffer.from(envelope.iv, 'base64'));
    decipher.setAAD(associatedData(envelope));
    decipher.setAuthTag(Buffer.from(envelope.tag, 'base64'));
    plaintext = Buffer.concat([decipher.update(Buffer.from(envelope.data, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    throw damaged(path, 'its content does not match its authentication tag');
  }
  // No cause and no parser message from here on: they would quote the decrypted secrets.
  let parsed: unknown;
  try {
    parsed = JSON.parse(plaintext);
  } catch {
    throw damaged(path, 'the decrypted content is not JSON');
  }
  const accounts = (parsed as { accounts?: unknown } | null)?.accounts;
  if (!isRecord(accounts)) throw damaged(path, 'the decrypted content has no accounts');
  const secrets: SecretMap = new Map();
  for (const [name, keys] of Object.entries(accounts)) {
    if (!isRecord(keys)) throw damaged(path, 'an account entry is not an object');
    const map = new Map<string, string>();
    for (const [key, value] of Object.entries(keys)) {
      if (typeof value !== 'string') throw damaged(path, 'a stored value is not a string');
      map.set(key, value);
    }
    secrets.set(name, map);
  }
  return secrets;
}

function associatedData(header: Pick<Envelope, 'version' | 'kdf' | 'N' | 'r' | 'p' | 'salt'>): Buffer {
  return Buffer.from(`mailops-secrets|${header.version}|${header.kdf}|${header.N}|${header.r}|${header.p}|${header.salt}`, 'utf8');
}

function parseEnvelope(text: string, path: string): Envelope {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw damaged(path, 'it is not JSON');
  }
  if (!isRecord(value)) throw damaged(path, 'it is not a JSON object');
  if (value.version !== 1) throw damaged(path, `unknown version ${JSON.stringify(value.version)}`);
  if (value.kdf !== 'scrypt') throw damaged(path, `unknown key derivation ${JSON.stringify(value.kdf)}`);
  const { N, r, p } = value;
  if (!isInteger(N) || N < KDF_LIMITS.minN || N > KDF_LIMITS.maxN || (N & (N - 1)) !== 0) throw damaged(path, 'bad scrypt N');
  if (!isInteger(r) || r < 1 || r > KDF_LIMITS.maxR) throw damaged(path, 'bad scrypt r');
  if (!isInteger(p) || p < 1 || p > KDF_LIMITS.maxP) throw damaged(path, 'bad scrypt p');
  const lengths = { salt: [16, 64], iv: [12, 12], tag: [16, 16], check: [32, 32], data: [0, Infinity] } as const;
  for (const [field, [min, max]] of Object.entries(lengths)) {
    const encoded = value[field];
    if (typeof encoded !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(encoded)) throw damaged(path, `bad ${field}`);
    const size = Buffer.from(encoded, 'base64').length;
    if (size < min || size > max) throw damaged(path, `bad ${field}`);
  }
  return value as unknown as Envelope;
}

/**
 * scrypt is the slow part (about 50 ms): derived keys are kept for the life of the process, per
 * passphrase and file parameters, so repeated reads and writes cost only the AES.
 */
const derivedKeys = new Map<string, Promise<DerivedKeys>>();

function deriveKeys(passphrase: string, params: KdfParams): Promise<DerivedKeys> {
  const id = createHash('sha256').update(`${params.N}|${params.r}|${params.p}|${params.salt}|`).update(passphrase, 'utf8').digest('hex');
  let keys = derivedKeys.get(id);
  if (!keys) {
    keys = new Promise<DerivedKeys>((resolve, reject) => {
      // maxmem: scrypt needs 128·N·r bytes; Node's default cap (32 MiB) is exactly that for files
      // written with N=2^15 (before 2^14 became the default) and would refuse them.
      const options = { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r };
      scrypt(passphrase, Buffer.from(params.salt, 'base64'), 64, options, (error, derived) => {
        if (error) return reject(error);
        const checkKey = derived.subarray(32);
        resolve({ cipherKey: derived.subarray(0, 32), check: createHmac('sha256', checkKey).update(CHECK_LABEL).digest() });
      });
    });
    keys.catch(() => derivedKeys.delete(id));
    derivedKeys.set(id, keys);
  }
  return keys;
}

function damaged(path: string, why: string): MailopsError {
  return new MailopsError('SECRET_STORE_UNAVAILABLE', `the secret file ${path} is damaged or was modified: ${why}`, {
    hint: 'it was left as it is; restore it from a backup, or move it away and run mailops connect again for each account that used it',
  });
}

function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}
