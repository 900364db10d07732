// The keychain store against a real Secret Service: the gnome-keyring that scripts/test.sh starts
// in a private D-Bus session. Without DBUS_SESSION_BUS_ADDRESS this file fails, so a missing
// keychain never passes silently; MAILOPS_TEST_NO_KEYCHAIN=1 skips it on purpose.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keychainServiceName } from '../../src/secrets/keychain.js';
import { openSecretStore, type SecretStore } from '../../src/secrets/store.js';
import { distModule } from '../support/dist.js';

const hasSession = Boolean(process.env.DBUS_SESSION_BUS_ADDRESS);
const skipOnPurpose = process.env.MAILOPS_TEST_NO_KEYCHAIN === '1';

const root = mkdtempSync(join(tmpdir(), 'mailops-keychain-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function newHome(): string {
  return mkdtempSync(join(root, 'home-'));
}

function openKeychain(home: string): Promise<SecretStore> {
  return openSecretStore('keychain', { home, env: process.env });
}

/** Straight from the Secret Service, bypassing our code: proves where the value really is. */
function secretToolLookup(service: string, username: string): string | null {
  try {
    return execFileSync('secret-tool', ['lookup', 'service', service, 'username', username], { encoding: 'utf8' });
  } catch {
    return null; // exit 1: no such item
  }
}

if (!hasSession && !skipOnPurpose) {
  it('needs a D-Bus session with an unlocked gnome-keyring', () => {
    throw new Error('DBUS_SESSION_BUS_ADDRESS is not set: run the suite with scripts/test.sh, or set MAILOPS_TEST_NO_KEYCHAIN=1 to skip the keychain tests');
  });
}

describe.skipIf(!hasSession)('keychain store (gnome-keyring)', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  async function tracked(home: string): Promise<SecretStore> {
    const store = await openKeychain(home);
    cleanups.push(async () => {
      for (const account of ['work', 'a', 'a:b', 'b']) await store.deleteAccount(account);
    });
    return store;
  }

  it('stores, replaces, reads back and deletes values, in the Secret Service itself', async () => {
    const home = newHome();
    const store = await tracked(home);
    expect(store.kind).toBe('keychain');
    expect(await store.get('work', 'password')).toBeNull();

    const big = JSON.stringify({ cache: 'z'.repeat(60_000) });
    await store.set('work', 'password', 'pä$$ 🔑 first');
    await store.set('work', 'password', 'pä$$ 🔑 second');
    await store.set('work', 'msal_cache', big);

    expect(await (await openKeychain(home)).get('work', 'password')).toBe('pä$$ 🔑 second');
    expect(await store.get('work', 'msal_cache')).toBe(big);
    expect(secretToolLookup(keychainServiceName(home), 'work:password')).toBe('pä$$ 🔑 second');

    await store.delete('work', 'password');
    await store.delete('work', 'password'); // absent: not an error
    expect(await store.get('work', 'password')).toBeNull();
    expect(secretToolLookup(keychainServiceName(home), 'work:password')).toBeNull();
    expect(await store.get('work', 'msal_cache')).toBe(big);
  });

  it('keeps two homes apart, for accounts of the same name', async () => {
    const homeA = newHome();
    const homeB = newHome();
    const a = await tracked(homeA);
    const b = await tracked(homeB);
    await a.set('work', 'password', 'secret-of-A');
    await b.set('work', 'password', 'secret-of-B');
    expect(await a.get('work', 'password')).toBe('secret-of-A');
    expect(await b.get('work', 'password')).toBe('secret-of-B');

    await a.deleteAccount('work');
    expect(await a.get('work', 'password')).toBeNull();
    expect(await b.get('work', 'password')).toBe('secret-of-B');
  });

  it('finds the same entries through a symlink to the home', async () => {
    const home = newHome();
    const link = join(root, `link-${Date.now()}`);
    symlinkSync(home, link);
    await (await tracked(home)).set('work', 'password', 'via-real-path');
    expect(await (await openKeychain(link)).get('work', 'password')).toBe('via-real-path');
  });

  it('deleteAccount removes every key of that account only', async () => {
    const store = await tracked(newHome());
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

  it('checkWritable writes nothing that stays', async () => {
    const home = newHome();
    const store = await tracked(home);
    await store.checkWritable();
    const left = execFileSync('secret-tool', ['search', '--all', 'service', keychainServiceName(home)], { encoding: 'utf8' });
    expect(left).toBe('');
  });
});

describe('keychain store, unreachable', () => {
  const baseEnv = { PATH: process.env.PATH, HOME: root };

  type ChildResult = { code: string; message?: string; hint?: string; value?: string | null; ms: number };

  /**
   * Runs openSecretStore('keychain') and one operation in a fresh process: a D-Bus connection,
   * once made, is kept for the life of a process, so a bus cannot be taken away in this one.
   */
  function inChild(env: NodeJS.ProcessEnv, action: 'open' | 'set' | 'get', home = newHome()): Promise<ChildResult> {
    const script = `
      const { openSecretStore } = await import(${JSON.stringify(distModule('secrets/store.js'))});
      const [home, action] = process.argv.slice(1);
      const started = Date.now();
      try {
        const store = await openSecretStore('keychain', { home, env: process.env });
        let value;
        if (action === 'set') await store.set('work', 'password', 'from-child');
        if (action === 'get') value = await store.get('work', 'password');
        console.log(JSON.stringify({ code: 'OK', value, ms: Date.now() - started }));
      } catch (error) {
        console.log(JSON.stringify({ code: error.code, message: error.message, hint: error.hint, ms: Date.now() - started }));
      }`;
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script, home, action], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      child.on('error', reject);
      child.on('close', () => {
        try {
          resolve(JSON.parse(stdout) as ChildResult);
        } catch {
          reject(new Error(`child said: ${stdout} ${stderr}`));
        }
      });
    });
  }

  /** A private session bus with no services that start on demand (no D-Bus activation). */
  async function startBus(dir: string): Promise<{ address: string; stop: () => void }> {
    const config = join(dir, 'bus.conf');
    writeFileSync(
      config,
      `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
        "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
      <busconfig><type>session</type><listen>unix:tmpdir=${dir}</listen>
        <policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy>
      </busconfig>`,
    );
    const daemon = spawn('dbus-daemon', [`--config-file=${config}`, '--nofork', '--print-address=1'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const address = await new Promise<string>((resolve, reject) => {
      daemon.stdout.setEncoding('utf8').once('data', (chunk: string) => resolve(chunk.trim()));
      daemon.once('error', reject);
    });
    return { address, stop: () => daemon.kill() };
  }

  function startKeyringDaemon(env: NodeJS.ProcessEnv, unlockWith: string | null): ChildProcess {
    const args = ['--foreground', '--components=secrets', ...(unlockWith === null ? [] : ['--unlock'])];
    const daemon = spawn('gnome-keyring-daemon', args, { env, stdio: ['pipe', 'ignore', 'ignore'] });
    daemon.stdin.end(unlockWith ?? '');
    return daemon;
  }

  async function waitForName(address: string, name: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const reply = execFileSync(
        'dbus-send',
        ['--bus=' + address, '--print-reply', '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus.NameHasOwner', `string:${name}`],
        { encoding: 'utf8' },
      );
      if (reply.includes('boolean true')) return;
      if (Date.now() > deadline) throw new Error(`${name} never appeared on the bus`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function stopped(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill();
    await exited;
  }

  it('fails fast with SECRET_STORE_UNAVAILABLE when there is no D-Bus session', async () => {
    const result = await inChild(baseEnv, 'open');
    expect(result.code).toBe('SECRET_STORE_UNAVAILABLE');
    expect(result.message).toBe('the OS keychain is not reachable: there is no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set)');
    expect(result.hint).toBe('on hosts without a keychain use --secret-store file with MAILOPS_PASSPHRASE (or --passphrase-file)');
    expect(result.ms).toBeLessThan(1_000);
  });

  it('says so when the session bus is gone', async () => {
    const result = await inChild({ ...baseEnv, DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(root, 'no-bus')}` }, 'open');
    expect(result.code).toBe('SECRET_STORE_UNAVAILABLE');
    expect(result.message).toMatch(/^the OS keychain is not reachable: cannot connect to the D-Bus session bus/);
    expect(result.ms).toBeLessThan(1_000);
  });

  it('says so when the session has no Secret Service', async () => {
    const bus = await startBus(mkdtempSync(join(root, 'bare-')));
    try {
      const result = await inChild({ ...baseEnv, DBUS_SESSION_BUS_ADDRESS: bus.address }, 'open');
      expect(result.code).toBe('SECRET_STORE_UNAVAILABLE');
      expect(result.message).toBe(
        'the OS keychain is not reachable: no Secret Service (gnome-keyring, KWallet, KeePassXC) is running in this D-Bus session',
      );
      expect(result.ms).toBeLessThan(1_000);
    } finally {
      bus.stop();
    }
  });

  it('says so when the keyring is locked and no unlock prompt can be shown', async () => {
    const dir = mkdtempSync(join(root, 'locked-'));
    mkdirSync(join(dir, 'data'));
    mkdirSync(join(dir, 'run'), { mode: 0o700 });
    const bus = await startBus(dir);
    const env = { ...baseEnv, DBUS_SESSION_BUS_ADDRESS: bus.address, XDG_DATA_HOME: join(dir, 'data'), XDG_RUNTIME_DIR: join(dir, 'run') };
    const daemons: ChildProcess[] = [];
    try {
      // First an unlocked keyring (this creates the "login" collection) holding one secret...
      daemons.push(startKeyringDaemon(env, 'keyring-password'));
      await waitForName(bus.address, 'org.freedesktop.secrets');
      const home = newHome();
      expect((await inChild(env, 'set', home)).code).toBe('OK');
      expect(await inChild(env, 'get', home)).toMatchObject({ code: 'OK', value: 'from-child' });
      await stopped(daemons[0]!);

      // ...then the same keyring after a restart, locked, with no prompter on this bus.
      daemons.push(startKeyringDaemon(env, null));
      await waitForName(bus.address, 'org.freedesktop.secrets');
      for (const action of ['get', 'set'] as const) {
        const result = await inChild(env, action, home);
        expect(result.code).toBe('SECRET_STORE_UNAVAILABLE');
        expect(result.message).toBe(
          'the OS keychain is not reachable: the keyring is locked and was not unlocked (the unlock prompt was dismissed or could not be shown)',
        );
        expect(result.ms).toBeLessThan(2_000);
      }
    } finally {
      for (const daemon of daemons) await stopped(daemon);
      bus.stop();
    }
  });
});

