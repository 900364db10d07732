import { mkdir, mkdtemp, readFile, readdir, readlink, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MailopsError } from '../../src/domain/errors.js';
import { sanitizeFilename, saveAttachments } from '../../src/mime/attachments.js';
import { parseMessage } from '../../src/mime/parse.js';

const long = 'a'.repeat(300);

describe('sanitizeFilename', () => {
  const cases: Array<[string, string]> = [
    ['report.pdf', 'report.pdf'],
    ['../../etc/passwd', 'passwd'],
    ['/etc/shadow', 'shadow'],
    ['..\\..\\win.ini', 'win.ini'],
    ['C:\\Windows\\System32\\evil.dll', 'evil.dll'],
    ['\u0000evil', 'evil'],
    ['ev\u0000il\r\n.txt', 'evil.txt'],
    ['.bashrc', 'bashrc'],
    ['...hidden', 'hidden'],
    ['..', 'attachment-4'],
    ['.', 'attachment-4'],
    ['dir/..', 'attachment-4'],
    ['', 'attachment-4'],
    ['   ', 'attachment-4'],
    ['a<b>c:d"e|f?g*h.txt', 'a_b_c_d_e_f_g_h.txt'],
    ['invoice.pdf. . ', 'invoice.pdf'],
    ['CON', '_CON'],
    ['nul.txt', '_nul.txt'],
    ['gpj.\u202eexe.pdf', 'gpj.exe.pdf'],
    ['Отчёт 2025.pdf', 'Отчёт 2025.pdf'],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} -> ${JSON.stringify(expected)}`, () => {
      expect(sanitizeFilename(input, 3)).toBe(expected);
    });
  }

  it('shortens a 300-character name to 200 bytes and keeps its extension', () => {
    const name = sanitizeFilename(`${long}.pdf`, 0);
    expect(name).toBe(`${'a'.repeat(196)}.pdf`);
  });

  it('never cuts a multi-byte character in half', () => {
    const name = sanitizeFilename(`${'é'.repeat(300)}.txt`, 0);
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(200);
    expect(name).toBe(`${'é'.repeat(98)}.txt`);
  });

  it('drops an absurdly long "extension" rather than keep it whole', () => {
    const name = sanitizeFilename(`x.${long}`, 0);
    expect(Buffer.byteLength(name)).toBe(200);
    expect(name.startsWith('x.aaa')).toBe(true);
  });
});

describe('saveAttachments', () => {
  let root: string;
  let dir: string;

  beforeEach(async () => {
    root = await realpath(await mkdtemp(path.join(tmpdir(), 'mailops-attach-')));
    dir = path.join(root, 'out');
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** Every file under root, relative, sorted: what the user finds on disk. */
  async function filesUnder(base: string): Promise<string[]> {
    const entries = await readdir(base, { recursive: true, withFileTypes: true });
    return entries
      .filter((e) => !e.isDirectory())
      .map((e) => path.relative(base, path.join(e.parentPath, e.name)))
      .sort();
  }

  const file = (filename: string, text: string) => ({ filename, content: Buffer.from(text) });

  it('creates the directory and writes hostile names only inside it, sanitised', async () => {
    const saved = await saveAttachments(
      [
        file('../../etc/passwd', 'p'),
        file('/etc/shadow', 's'),
        file('..\\..\\win.ini', 'w'),
        file('\u0000evil', 'e'),
        file('.bashrc', 'b'),
        file(`${long}.txt`, 'l'),
        file('..', 'dots'),
        file('', 'empty'),
      ],
      dir,
      { force: false },
    );
    const longName = `${'a'.repeat(196)}.txt`;
    expect(saved.map((s) => s.filename)).toEqual(['passwd', 'shadow', 'win.ini', 'evil', 'bashrc', longName, 'attachment-7', 'attachment-8']);
    expect(saved.every((s) => path.dirname(s.path) === dir)).toBe(true);
    expect(await filesUnder(root)).toEqual(
      ['attachment-7', 'attachment-8', 'bashrc', 'evil', longName, 'passwd', 'shadow', 'win.ini'].map((n) => path.join('out', n)).sort(),
    );
    expect(await readFile(path.join(dir, 'passwd'), 'utf8')).toBe('p');
    expect(saved[0]).toEqual({ filename: 'passwd', path: path.join(dir, 'passwd'), size: 1 });
  });

  it('numbers duplicate names before the extension, case-insensitively', async () => {
    const saved = await saveAttachments(
      [file('scan.pdf', '1'), file('Scan.pdf', '2'), file('sub/scan.pdf', '3'), file('notes', '4'), file('notes', '5')],
      dir,
      { force: false },
    );
    expect(saved.map((s) => s.filename)).toEqual(['scan.pdf', 'Scan (2).pdf', 'scan (3).pdf', 'notes', 'notes (2)']);
    expect(await readFile(path.join(dir, 'scan (3).pdf'), 'utf8')).toBe('3');
  });

  it('refuses to overwrite an existing file without force, before writing anything', async () => {
    await mkdir(dir);
    await writeFile(path.join(dir, 'b.txt'), 'precious');
    const attempt = saveAttachments([file('a.txt', 'new a'), file('b.txt', 'new b')], dir, { force: false });
    await expect(attempt).rejects.toBeInstanceOf(MailopsError);
    const error = (await attempt.catch((e: unknown) => e)) as MailopsError;
    expect(error.code).toBe('FAILED');
    expect(error.message).toContain('"b.txt"');
    expect(error.hint).toContain('--force');
    expect(await readFile(path.join(dir, 'b.txt'), 'utf8')).toBe('precious');
    expect(await filesUnder(dir)).toEqual(['b.txt']);
  });

  it('overwrites with force', async () => {
    await mkdir(dir);
    await writeFile(path.join(dir, 'b.txt'), 'old');
    const saved = await saveAttachments([file('b.txt', 'new')], dir, { force: true });
    expect(saved).toEqual([{ filename: 'b.txt', path: path.join(dir, 'b.txt'), size: 3 }]);
    expect(await readFile(path.join(dir, 'b.txt'), 'utf8')).toBe('new');
    expect(await filesUnder(dir)).toEqual(['b.txt']);
  });

  it('treats a symlink in the directory as existing, and with force replaces the link, not its target', async () => {
    await mkdir(dir);
    const outside = path.join(root, 'outside.txt');
    await writeFile(outside, 'outside');
    await symlink(outside, path.join(dir, 'link.txt'));
    await symlink(path.join(root, 'nowhere'), path.join(dir, 'dangling.txt'));

    await expect(saveAttachments([file('dangling.txt', 'x')], dir, { force: false })).rejects.toThrow(/"dangling.txt" already exists/);
    await expect(saveAttachments([file('link.txt', 'x')], dir, { force: false })).rejects.toThrow(/"link.txt" already exists/);

    await saveAttachments([file('link.txt', 'replaced'), file('dangling.txt', 'also')], dir, { force: true });
    expect(await readFile(outside, 'utf8')).toBe('outside');
    expect(await readFile(path.join(dir, 'link.txt'), 'utf8')).toBe('replaced');
    expect(await filesUnder(root)).toEqual(['out/dangling.txt', 'out/link.txt', 'outside.txt']);
  });

  it('writes into the real directory when DIR is a symlink to one', async () => {
    const real = path.join(root, 'real');
    await mkdir(real);
    await symlink(real, dir);
    const saved = await saveAttachments([file('../x.txt', 'x')], dir, { force: false });
    expect(saved[0]?.path).toBe(path.join(real, 'x.txt'));
    expect(await readlink(dir)).toBe(real);
    expect(await filesUnder(real)).toEqual(['x.txt']);
  });

  it('fails with a MailopsError when DIR is a file', async () => {
    await writeFile(dir, 'not a dir');
    await expect(saveAttachments([file('a', 'a')], dir, { force: false })).rejects.toMatchObject({ code: 'FAILED' });
  });

  it('saves what parseMessage decoded, hostile RFC 2231 names included', async () => {
    const raw = Buffer.from(
      [
        'Content-Type: multipart/mixed; boundary=X',
        '',
        '--X',
        'Content-Type: text/plain',
        '',
        'see attached',
        '--X',
        'Content-Type: application/octet-stream',
        "Content-Disposition: attachment; filename*=utf-8''..%2F..%2F.ssh%2Fauthorized_keys",
        'Content-Transfer-Encoding: base64',
        '',
        Buffer.from('ssh-ed25519 AAAA attacker').toString('base64'),
        '--X--',
        '',
      ].join('\r\n'),
    );
    const message = await parseMessage(raw);
    const saved = await saveAttachments(message.attachments, dir, { force: false });
    expect(saved.map((s) => s.filename)).toEqual(['authorized_keys']);
    expect(await filesUnder(root)).toEqual(['out/authorized_keys']);
    expect(await readFile(path.join(dir, 'authorized_keys'), 'utf8')).toBe('ssh-ed25519 AAAA attacker');
  });
});
