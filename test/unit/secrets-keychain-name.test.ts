// Which keychain entries a home owns: the service name must be stable for one folder (however it
// is spelled, before and after it exists) and differ between folders.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keychainServiceName } from '../../src/secrets/keychain.js';

const root = mkdtempSync(join(tmpdir(), 'mailops-keychain-name-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('keychainServiceName', () => {
  it('is mailops: and 8 hex digits, different for different homes', () => {
    const a = keychainServiceName(join(root, 'a'));
    expect(a).toMatch(/^mailops:[0-9a-f]{8}$/);
    expect(keychainServiceName(join(root, 'b'))).not.toBe(a);
  });

  it('is the same before and after the home is created, and through a symlinked parent', () => {
    const home = join(root, 'later', 'mailops');
    const before = keychainServiceName(home);
    mkdirSync(home, { recursive: true });
    expect(keychainServiceName(home)).toBe(before);
    expect(keychainServiceName(`${home}/`)).toBe(before);
    expect(keychainServiceName(join(home, '..', 'mailops'))).toBe(before);

    symlinkSync(join(root, 'later'), join(root, 'alias'));
    expect(keychainServiceName(join(root, 'alias', 'mailops'))).toBe(before);
    // A symlinked parent of a home that does not exist yet resolves the same way too.
    expect(keychainServiceName(join(root, 'alias', 'not-yet'))).toBe(keychainServiceName(join(root, 'later', 'not-yet')));
  });
});
