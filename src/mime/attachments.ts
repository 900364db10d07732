/**
 * `read --save-attachments DIR`. Attachment names come from the sender, so they
 * are hostile input: every name is reduced to a plain file name, and every file
 * lands directly in DIR. Without --force nothing that exists is ever replaced,
 * and a clash is reported before any file is written.
 */

import { randomBytes } from 'node:crypto';
import { lstat, mkdir, realpath, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MailopsError } from '../domain/errors.js';

export interface SavableAttachment {
  filename: string;
  content: Buffer;
}

export interface SavedAttachment {
  /** The name written, after sanitising and de-duplication. */
  filename: string;
  /** Absolute path, inside the real (symlink-resolved) directory. */
  path: string;
  size: number;
}

/** NAME_MAX is 255 bytes on common file systems; this leaves room for " (12)" and the temporary name used by --force. */
const MAX_NAME_BYTES = 200;
/** A longer "extension" is more likely part of the name than a file type. */
const MAX_EXTENSION_LENGTH = 16;

// C0 and C1 controls (NUL included), DEL, and the bidirectional overrides that make "exe.pdf" display as "fdp.exe".
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// Characters Windows forbids in names (the slashes are handled as directory separators before this).
const WINDOWS_RESERVED = /[<>:"|?*]/g;
// Device names Windows will not create as files, with or without an extension.
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/**
 * A file name safe to create in a directory: no directories, no "..", no
 * control characters, no leading dot (hidden or dot files), no characters
 * Windows rejects, at most 200 UTF-8 bytes (the extension kept). An empty result
 * becomes `attachment-N` where N is `index + 1` (index: 0-based position in the message).
 */
export function sanitizeFilename(name: string, index: number): string {
  let base = name.normalize('NFC').replace(INVISIBLE, '');
  // Both separators: a name made on Windows (..\..\win.ini) is just as hostile on Linux.
  base = base.split(/[\\/]/).pop() ?? '';
  base = base.replace(WINDOWS_RESERVED, '_');
  // Leading dots make hidden files (.bashrc) or ".."; trailing dots and blanks are dropped by Windows.
  base = base.replace(/^[\s.]+/, '').replace(/[\s.]+$/, '');
  if (WINDOWS_DEVICE.test(base)) base = `_${base}`;
  base = truncateKeepingExtension(base, MAX_NAME_BYTES);
  return base === '' ? `attachment-${index + 1}` : base;
}

export async function saveAttachments(
  attachments: readonly SavableAttachment[],
  dir: string,
  opts: { force: boolean },
): Promise<SavedAttachment[]> {
  const realDir = await prepareDirectory(dir);
  const targets = planTargets(attachments, realDir);
  if (!opts.force) await assertNoneExists(targets, dir);

  const saved: SavedAttachment[] = [];
  for (const target of targets) {
    if (opts.force) await replaceFile(target, realDir);
    else await createFile(target, dir);
    saved.push({ filename: target.filename, path: target.path, size: target.content.length });
  }
  return saved;
}

interface Target {
  filename: string;
  path: string;
  content: Buffer;
}

async function prepareDirectory(dir: string): Promise<string> {
  try {
    await mkdir(dir, { recursive: true });
    // Files go into the directory the path finally points at; every target is checked against it.
    const real = await realpath(dir);
    if (!(await stat(real)).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    return real;
  } catch (error) {
    throw new MailopsError('FAILED', `Cannot use ${dir} for attachments: ${describe(error)}`, { cause: error });
  }
}

function planTargets(attachments: readonly SavableAttachment[], realDir: string): Target[] {
  // Compared case-insensitively: "A.pdf" and "a.pdf" are one file on macOS and Windows.
  const taken = new Set<string>();
  return attachments.map((attachment, index) => {
    const filename = uniqueName(sanitizeFilename(attachment.filename, index), taken);
    taken.add(filename.toLowerCase());
    const target = path.join(realDir, filename);
    // sanitizeFilename already makes this impossible; checked again because the cost of a mistake is a file written anywhere.
    if (path.dirname(target) !== realDir || path.basename(target) !== filename) {
      throw new MailopsError('FAILED', `Refusing to save attachment "${attachment.filename}": it would land outside ${realDir}`);
    }
    return { filename, path: target, content: attachment.content };
  });
}

/** "name.pdf", then "name (2).pdf", "name (3).pdf"... */
function uniqueName(name: string, taken: ReadonlySet<string>): string {
  if (!taken.has(name.toLowerCase())) return name;
  const { stem, extension } = splitExtension(name);
  for (let n = 2; ; n++) {
    const candidate = `${stem} (${n})${extension}`;
    if (!taken.has(candidate.toLowerCase())) return candidate;
  }
}

async function assertNoneExists(targets: readonly Target[], dir: string): Promise<void> {
  const existing: string[] = [];
  for (const target of targets) {
    // lstat: a symlink counts as existing even when it dangles.
    if (await lstat(target.path).then(() => true, () => false)) existing.push(target.filename);
  }
  if (existing.length > 0) throw alreadyExists(existing, dir);
}

function alreadyExists(names: readonly string[], dir: string): MailopsError {
  const list = names.map((n) => `"${n}"`).join(', ');
  const verb = names.length === 1 ? 'exists' : 'exist';
  return new MailopsError('FAILED', `${list} already ${verb} in ${dir}; nothing was overwritten`, {
    hint: 'Pass --force to overwrite, or save into another directory.',
  });
}

async function createFile(target: Target, dir: string): Promise<void> {
  try {
    // 'wx' (O_CREAT|O_EXCL): fails on anything already there, a symlink included, even if it appeared after the check.
    await writeFile(target.path, target.content, { flag: 'wx' });
  } catch (error) {
    if (errorCode(error) === 'EEXIST') throw alreadyExists([target.filename], dir);
    throw new MailopsError('FAILED', `Cannot write ${target.path}: ${describe(error)}`, { cause: error });
  }
}

/**
 * --force: write a new file beside the target and rename it over. rename replaces
 * a symlink at the target rather than following it, so an overwrite cannot reach a
 * file outside the directory.
 */
async function replaceFile(target: Target, realDir: string): Promise<void> {
  const temporary = path.join(realDir, `.${target.filename}.${randomBytes(6).toString('hex')}.part`);
  try {
    await writeFile(temporary, target.content, { flag: 'wx' });
    await rename(temporary, target.path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw new MailopsError('FAILED', `Cannot write ${target.path}: ${describe(error)}`, { cause: error });
  }
}

function truncateKeepingExtension(name: string, maxBytes: number): string {
  if (Buffer.byteLength(name) <= maxBytes) return name;
  const { stem, extension } = splitExtension(name);
  const kept = extension.length <= MAX_EXTENSION_LENGTH ? extension : '';
  const room = maxBytes - Buffer.byteLength(kept);
  let out = '';
  let bytes = 0;
  // By code point, so a multi-byte character is never cut in half.
  for (const char of kept ? stem : name) {
    bytes += Buffer.byteLength(char);
    if (bytes > room) break;
    out += char;
  }
  return out.replace(/[\s.]+$/, '') + kept;
}

function splitExtension(name: string): { stem: string; extension: string } {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? { stem: name.slice(0, dot), extension: name.slice(dot) } : { stem: name, extension: '' };
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

function describe(error: unknown): string {
  const code = errorCode(error);
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOTDIR' || code === 'EEXIST') return 'not a directory';
  if (code === 'EISDIR') return 'a directory is in the way';
  if (code === 'ENOSPC') return 'no space left on the device';
  return error instanceof Error ? error.message : String(error);
}
