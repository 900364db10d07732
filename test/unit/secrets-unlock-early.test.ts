// unlockEarly starts the one key derivation a command needs, and the command's own unlock
// reuses it: counted by wrapping node:crypto's scrypt.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AccountConfig } from '../../src/domain/types.js';
import { writeAccountsBackup } from '../../src/store/account-backup.js';

const PASS = 'correct horse battery staple';

// Outside the factory, so the count survives vi.resetModules() (which re-runs the factory).
const derivations = vi.hoisted(() => ({ count: 0 }));
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  const scrypt = ((...args: Parameters<typeof real.scrypt>) => {
    derivations.count++;
    return (real.scrypt as (...a: unknown[]) => void)(...args);
  }) as typeof real.scrypt;
  return { ...real, default: { ...real, scrypt }, scrypt };
});

const roots: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mailops-early-'));
  roots.push(dir);
  return dir;
}
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

/** Fresh modules: encrypted-file.ts keeps derived keys for the process, so start with none. */
async function freshModules() {
  vi.resetModules();
  const file = await import('../../src/secrets/encrypted-file.js');
  const early = await import('../../src/secrets/unlock-early.js');
  return { ...file, ...early };
}

/** An account as accounts.json holds it; only what decides where its secret is matters here. */
function account(name: string, fields: Partial<AccountConfig>): AccountConfig {
  return { name, email: `${name}@example.test`, provider: 'imap', secretStore: 'file', passwordCommand: null, ...fields } as AccountConfig;
}

/** A home with a secret file made by "another process" (modules whose key cache is then thrown away). */
async function homeWithSecret(): Promise<string> {
  const home = tempDir();
  const { openEncryptedFileStore } = await freshModules();
  await (await openEncryptedFileStore(home, PASS)).set('a', 'password', 'pw');
  return home;
}

describe('unlockEarly (a sync starts deriving the key before it needs it)', () => {
  beforeEach(() => {
    derivations.count = 0;
  });

  it('derives the key once, ahead of time; the store then opens with that same derivation', async () => {
    const home = await homeWithSecret();
    const { openEncryptedFileStore, unlockEarly, SECRET_FILE_NAME } = await freshModules();
    const before = readFileSync(join(home, SECRET_FILE_NAME));
    derivations.count = 0;
    unlockEarly(home, { MAILOPS_PASSPHRASE: PASS }, undefined);
    // Started by unlockEarly alone, before anyone opened the store.
    await expect.poll(() => derivations.count).toBe(1);
    expect(await (await openEncryptedFileStore(home, PASS)).get('a', 'password')).toBe('pw');
    expect(derivations.count).toBe(1);
    expect(readFileSync(join(home, SECRET_FILE_NAME))).toEqual(before);
  });

  it('with no secret file or no passphrase it derives nothing and writes nothing', async () => {
    const { unlockEarly } = await freshModules();
    const empty = tempDir();
    unlockEarly(empty, { MAILOPS_PASSPHRASE: PASS }, undefined);
    const home = await homeWithSecret();
    derivations.count = 0;
    unlockEarly(home, {}, join(home, 'no-such-passphrase-file'));
    unlockEarly(home, {}, undefined);
    await new Promise((r) => setTimeout(r, 100));
    expect(derivations.count).toBe(0);
    expect(readdirSync(empty)).toEqual([]);
  });

  it('a wrong passphrase is left for the command to report: no throw, no unhandled rejection, the file untouched', async () => {
    const home = await homeWithSecret();
    const { openEncryptedFileStore, unlockEarly, SECRET_FILE_NAME } = await freshModules();
    const before = readFileSync(join(home, SECRET_FILE_NAME));
    derivations.count = 0;
    expect(() => unlockEarly(home, { MAILOPS_PASSPHRASE: 'wrong' }, undefined)).not.toThrow();
    await expect.poll(() => derivations.count).toBe(1);
    await expect(openEncryptedFileStore(home, 'wrong')).rejects.toThrow(/^cannot unlock the secret file: wrong passphrase$/);
    expect(derivations.count).toBe(1);
    expect(readFileSync(join(home, SECRET_FILE_NAME))).toEqual(before);
  });

  it('derives nothing when no account keeps its secret in the file (a left-over file), and does when one does', async () => {
    const home = await homeWithSecret();
    const { unlockEarly } = await freshModules();
    derivations.count = 0;
    writeAccountsBackup(home, [
      account('cmd', { passwordCommand: 'pass show mail' }),
      account('chain', { secretStore: 'keychain' }),
      account('google', { provider: 'gmail', secretStore: 'keychain' }),
    ]);
    unlockEarly(home, { MAILOPS_PASSPHRASE: PASS }, undefined);
    await new Promise((r) => setTimeout(r, 100));
    expect(derivations.count).toBe(0);

    // An OAuth account's tokens are in the file even with a password command set somewhere else.
    writeAccountsBackup(home, [account('cmd', { passwordCommand: 'pass show mail' }), account('outlook', { provider: 'outlook' })]);
    unlockEarly(home, { MAILOPS_PASSPHRASE: PASS }, undefined);
    await expect.poll(() => derivations.count).toBe(1);
  });

  it('derives the key when accounts.json cannot be read: the head start errs on the side of having it', async () => {
    const home = await homeWithSecret();
    const { unlockEarly } = await freshModules();
    derivations.count = 0;
    writeFileSync(join(home, 'accounts.json'), '{ not json');
    unlockEarly(home, { MAILOPS_PASSPHRASE: PASS }, undefined);
    await expect.poll(() => derivations.count).toBe(1);
  });
});
