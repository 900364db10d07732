// The encrypted secret file as a user (and a second process) sees it: what is on disk, what
// survives, which errors come back.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MailopsError } from '../../src/domain/errors.js';
import { openEncryptedFileStore, SECRET_FILE_NAME } from '../../src/secrets/encrypted-file.js';
import { distModule } from '../support/dist.js';
import { openSecretStore } from '../../src/secrets/store.js';

const PASS = 'correct horse battery staple';
const tempRoots: string[] = [];

function makeHome(): string {
  const root = mkdtempSync(join(tmpdir(), 'mailops-secrets-'));
  tempRoots.push(root);
  return join(root, 'home');
}

afterAll(() => {
  for (const root of tempRoots) rmSync(root, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<MailopsError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MailopsError);
  return error as MailopsError;
}

function envelopeOf(home: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(home, SECRET_FILE_NAME), 'utf8')) as Record<string, unknown>;
}

describe('encrypted file store', () => {
  it('stores, replaces, reads back and deletes values, across store instances', async () => {
    const home = makeHome();
    const store = await openEncryptedFileStore(home, PASS);
    expect(store.kind).toBe('file');
    expect(await store.get('work', 'password')).toBeNull();

    const tricky = 'pä$$ wörd 🔑\n"quoted"\\';
    const big = JSON.stringify({ tokens: 'x'.repeat(80_000) });
    await store.set('work', 'password', tricky);
    await store.set('work', 'msal_cache', big);
    await store.set('work', 'password', tricky + '2');

    const other = await openEncryptedFileStore(home, PASS);
    expect(await other.get('work', 'password')).toBe(tricky + '2');
    expect(await other.get('work', 'msal_cache')).toBe(big);

    await other.delete('work', 'password');
    await other.delete('work', 'password'); // absent: not an error
    expect(await store.get('work', 'password')).toBeNull();
    expect(await store.get('work', 'msal_cache')).toBe(big);
  });

  it('writes a 0600 file in a 0700 folder, with no plaintext and no temporary files left', async () => {
    const home = makeHome();
    const store = await openEncryptedFileStore(home, PASS);
    await store.set('acct-name-visible?', 'password', 'hunter2-plaintext');
    await store.set('acct-name-visible?', 'refresh_token', 'rt-plaintext-value');

    expect(statSync(home).mode & 0o777).toBe(0o700);
    const file = join(home, SECRET_FILE_NAME);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(home)).toEqual([SECRET_FILE_NAME]);

    const raw = readFileSync(file, 'utf8');
    for (const plain of ['hunter2-plaintext', 'rt-plaintext-value', 'acct-name-visible?', PASS]) {
      expect(raw).not.toContain(plain);
      expect(raw).not.toContain(Buffer.from(plain).toString('base64'));
    }
    const envelope = envelopeOf(home);
    expect(Object.keys(envelope).sort()).toEqual(['N', 'check', 'data', 'iv', 'kdf', 'p', 'r', 'salt', 'tag', 'version']);
    expect(envelope).toMatchObject({ version: 1, kdf: 'scrypt', N: 2 ** 14, r: 8, p: 1 });
  });

  it('uses a fresh IV on every write and keeps the salt', async () => {
    const home = makeHome();
    const store = await openEncryptedFileStore(home, PASS);
    await store.set('a', 'password', 'same');
    const first = envelopeOf(home);
    await store.set('a', 'password', 'same');
    const second = envelopeOf(home);
    expect(second.iv).not.toBe(first.iv);
    expect(second.data).not.toBe(first.data);
    expect(second.salt).toBe(first.salt);
  });

  it('deleteAccount removes every key of that account only', async () => {
    const home = makeHome();
    const store = await openEncryptedFileStore(home, PASS);
    await store.set('a', 'password', '1');
    await store.set('a', 'refresh_token', '2');
    await store.set('a:b', 'password', '3');
    await store.set('b', 'password', '4');
    await store.deleteAccount('a');
    expect(await store.get('a', 'password')).toBeNull();
    expect(await store.get('a', 'refresh_token')).toBeNull();
    expect(await store.get('a:b', 'password')).toBe('3');
    expect(await store.get('b', 'password')).toBe('4');
  });

  it('refuses a wrong passphrase without touching the file', async () => {
    const home = makeHome();
    await (await openEncryptedFileStore(home, PASS)).set('a', 'password', 'secret-1');
    const before = readFileSync(join(home, SECRET_FILE_NAME));

    const error = await rejection(openEncryptedFileStore(home, 'not the passphrase'));
    expect(error.code).toBe('SECRET_STORE_UNAVAILABLE');
    expect(error.exitCode).toBe(1);
    expect(error.message).toBe('cannot unlock the secret file: wrong passphrase');
    expect(error.hint).toMatch(/MAILOPS_PASSPHRASE/);
    expect(readFileSync(join(home, SECRET_FILE_NAME))).toEqual(before);
    expect(await (await openEncryptedFileStore(home, PASS)).get('a', 'password')).toBe('secret-1');
  });

  it('asks for a passphrase, naming MAILOPS_PASSPHRASE and --passphrase-file', async () => {
    const error = await rejection(openSecretStore('file', { home: makeHome(), passphrase: null, env: {} }));
    expect(error.code).toBe('MISSING_INPUT');
    expect(error.exitCode).toBe(2);
    expect(`${error.message} ${error.hint}`).toMatch(/MAILOPS_PASSPHRASE/);
    expect(`${error.message} ${error.hint}`).toMatch(/--passphrase-file/);
  });

  it('takes MAILOPS_PASSPHRASE from the environment through openSecretStore', async () => {
    const home = makeHome();
    const viaEnv = await openSecretStore('file', { home, env: { MAILOPS_PASSPHRASE: PASS } });
    await viaEnv.set('a', 'password', 'v');
    expect(await (await openEncryptedFileStore(home, PASS)).get('a', 'password')).toBe('v');
  });

  describe('a modified file', () => {
    async function seeded(): Promise<string> {
      const home = makeHome();
      const store = await openEncryptedFileStore(home, PASS);
      await store.set('a', 'password', 'keep-me');
      return home;
    }

    function rewrite(home: string, change: (envelope: Record<string, unknown>) => void): Buffer {
      const envelope = envelopeOf(home);
      change(envelope);
      writeFileSync(join(home, SECRET_FILE_NAME), JSON.stringify(envelope), { mode: 0o600 });
      return readFileSync(join(home, SECRET_FILE_NAME));
    }

    const cases: Array<[string, (envelope: Record<string, unknown>) => void]> = [
      [
        'one flipped ciphertext byte',
        (e) => {
          const data = Buffer.from(e.data as string, 'base64');
          data[3] = data[3]! ^ 0x01;
          e.data = data.toString('base64');
        },
      ],
      ['a truncated tag', (e) => void (e.tag = (e.tag as string).slice(0, 8))],
    ];

    for (const [what, change] of cases) {
      it(`is reported as damaged (${what}) and never overwritten`, async () => {
        const home = await seeded();
        const tampered = rewrite(home, change);
        const error = await rejection(openEncryptedFileStore(home, PASS));
        expect(error.code).toBe('SECRET_STORE_UNAVAILABLE');
        expect(error.message).toMatch(/secret file .* is damaged or was modified/);
        expect(error.message).not.toContain('keep-me');
        expect(readFileSync(join(home, SECRET_FILE_NAME))).toEqual(tampered);
      });
    }

    it('with changed KDF parameters cannot be unlocked (they feed the key) and is left alone', async () => {
      const home = await seeded();
      const tampered = rewrite(home, (e) => void (e.N = 2 ** 15));
      const error = await rejection(openEncryptedFileStore(home, PASS));
      expect(error.code).toBe('SECRET_STORE_UNAVAILABLE');
      expect(error.message).toBe('cannot unlock the secret file: wrong passphrase');
      expect(readFileSync(join(home, SECRET_FILE_NAME))).toEqual(tampered);
    });

    it('a store opened before the damage fails its writes and leaves the file alone', async () => {
      const home = await seeded();
      const store = await openEncryptedFileStore(home, PASS);
      const tampered = rewrite(home, cases[0]![1]);
      expect((await rejection(store.set('a', 'refresh_token', 'new'))).message).toMatch(/damaged/);
      expect((await rejection(store.get('a', 'password'))).message).toMatch(/damaged/);
      expect(readFileSync(join(home, SECRET_FILE_NAME))).toEqual(tampered);
    });

    it('is reported as damaged when it is not JSON at all', async () => {
      const home = await seeded();
      writeFileSync(join(home, SECRET_FILE_NAME), 'garbage', { mode: 0o600 });
      expect((await rejection(openEncryptedFileStore(home, PASS))).message).toMatch(/damaged or was modified: it is not JSON/);
    });
  });

  describe('the lock', () => {
    it('recovers a stale lock left by a process that is gone', async () => {
      const home = makeHome();
      const store = await openEncryptedFileStore(home, PASS);
      await store.set('a', 'password', 'one');
      const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
      const lockPath = join(home, `${SECRET_FILE_NAME}.lock`);
      writeFileSync(lockPath, JSON.stringify({ pid: dead, host: hostname(), created: Date.now(), nonce: 'x' }));

      const started = Date.now();
      await store.set('a', 'password', 'two');
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(await store.get('a', 'password')).toBe('two');
      expect(readdirSync(home)).toEqual([SECRET_FILE_NAME]);
    });

    it('recovers a lock older than a minute even if its pid is alive (reused pid, other host)', async () => {
      const home = makeHome();
      const store = await openEncryptedFileStore(home, PASS);
      const lockPath = join(home, `${SECRET_FILE_NAME}.lock`);
      mkdirSync(home, { recursive: true });
      writeFileSync(lockPath, JSON.stringify({ pid: process.pid, host: 'elsewhere', created: Date.now() - 5 * 60_000, nonce: 'x' }));
      await store.set('a', 'password', 'v');
      expect(await store.get('a', 'password')).toBe('v');
    });

    it('waits for a live holder, then gives up with BUSY (exit 75) and the holder pid', async () => {
      const home = makeHome();
      const store = await openEncryptedFileStore(home, PASS, { lockTimeoutMs: 300 });
      await store.set('a', 'password', 'before');
      const holder = spawn('sleep', ['30']);
      try {
        const lockPath = join(home, `${SECRET_FILE_NAME}.lock`);
        writeFileSync(lockPath, JSON.stringify({ pid: holder.pid, host: hostname(), created: Date.now(), nonce: 'x' }));
        const started = Date.now();
        const error = await rejection(store.set('a', 'password', 'after'));
        expect(Date.now() - started).toBeGreaterThanOrEqual(300);
        expect(error.code).toBe('BUSY');
        expect(error.exitCode).toBe(75);
        expect(error.message).toContain(`pid ${holder.pid}`);
        expect(error.hint).toContain(lockPath);
        expect(await store.get('a', 'password')).toBe('before');
      } finally {
        holder.kill();
      }
    });
  });

  describe('concurrent writers', () => {

    it('8 processes saving at once lose no update', async () => {
      const home = makeHome();
      const writers = 8;
      const keysEach = 4;
      const script = `
        const { openEncryptedFileStore } = await import(${JSON.stringify(distModule('secrets/encrypted-file.js'))});
        const [home, pass, id, count] = process.argv.slice(1);
        const store = await openEncryptedFileStore(home, pass);
        for (let i = 0; i < Number(count); i++) {
          await store.set('shared', 'k' + id + '_' + i, 'value-' + id + '-' + i + '-' + 'y'.repeat(5000));
          await store.set('w' + id, 'refresh_token', 'rt-' + id + '-' + i);
        }`;
      const runs = Array.from({ length: writers }, (_, id) =>
        runNode(['--input-type=module', '-e', script, home, PASS, String(id), String(keysEach)]),
      );
      const results = await Promise.all(runs);
      for (const result of results) expect(result).toEqual({ code: 0, stderr: '' });

      const store = await openEncryptedFileStore(home, PASS);
      for (let id = 0; id < writers; id++) {
        for (let i = 0; i < keysEach; i++) {
          expect(await store.get('shared', `k${id}_${i}`)).toBe(`value-${id}-${i}-${'y'.repeat(5000)}`);
        }
        expect(await store.get(`w${id}`, 'refresh_token')).toBe(`rt-${id}-${keysEach - 1}`);
      }
      expect(readdirSync(home)).toEqual([SECRET_FILE_NAME]);
    }, 60_000);
  });
});


function runNode(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}
