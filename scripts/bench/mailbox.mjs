// A realistic mailbox for the sync benchmark, generated deterministically (seeded PRNG) and fast:
// messages are written as Maildir files straight into a Dovecot user's folders, which Dovecot
// indexes on first access. Messages have LF line ends, as Maildirs usually do (Dovecot sends
// CRLF); the file name carries S= and W= sizes so Dovecot need not compute them.
//
// Profiles: `mixed` (the issue's 10,000: mostly 2-20 KB text and HTML, some 50-500 KB attachments,
// a few of 1-5 MB; ~700 MB) and `small` (3-10 KB, for the 50,000-message RSS check).
import { createCipheriv, createHash } from 'node:crypto';
import { chownSync, mkdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { modifiedUtf7 } from './raw-imap.mjs';

/** The folders and their share of the messages; Lists is a \Noselect parent, as Dovecot's fs layout makes it. */
export const FOLDERS = [
  { path: 'INBOX', share: 0.42 },
  { path: 'Archive', share: 0.23 },
  { path: 'Sent', share: 0.13 },
  { path: 'Projects', share: 0.03 },
  { path: 'Projects/2025', share: 0.09 },
  { path: 'Entwürfe', share: 0.015 },
  { path: 'Lists/node-dev', share: 0.085 },
];

/** Where Dovecot keeps a folder of this layout (maildir, LAYOUT=fs): INBOX at the root, others by mUTF-7 path. */
export function folderDir(maildir, path) {
  if (path === 'INBOX') return maildir;
  return join(maildir, ...path.split('/').map(modifiedUtf7));
}

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (list) => list[Math.floor(next() * list.length)],
    chance: (p) => next() < p,
  };
}

/** Deterministic "random" bytes (attachment content) from an AES-CTR key stream: fast and seedable. */
function byteStream(seed) {
  const key = createHash('sha256').update(`bytes-${seed}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return (n) => cipher.update(Buffer.alloc(n));
}

const WORDS = (
  'the of and to in is for that on with as this by be are from at it have or we an will not can all your more ' +
  'project release deploy server client meeting budget review invoice schedule report quarter update draft ' +
  'proposal contract customer support ticket build pipeline test failure latency database migration backup ' +
  'network storage cluster kernel patch version feature request change issue design document team please ' +
  'thanks regards tomorrow monday friday week month deadline agenda notes summary question answer follow ' +
  'über für größe straße müssen können natürlich grüße besprechung rechnung entwurf café naïve résumé'
).split(' ');

const PEOPLE = [
  ['Alice Example', 'alice@example.org'], ['Bob Builder', 'bob@builder.example'], ['Jürgen Müller', 'juergen.mueller@example.de'],
  ['José Álvarez', 'jose@example.es'], ['李雷', 'li.lei@example.cn'], ['Chloé Dubois', 'chloe@example.fr'],
  ['Ops Alerts', 'alerts@monitoring.example'], ['GitHub', 'noreply@github.example'], ['Dana Scully', 'dana@fbi.example'],
  ['Erik Ström', 'erik@example.se'], ['Priya Natarajan', 'priya@example.in'], ['Billing', 'billing@vendor.example'],
  ['Nadia Kowalski', 'nadia@example.pl'], ['Tom O\'Brien', 'tom.obrien@example.ie'], ['Yuki Tanaka', 'yuki@example.jp'],
];
const ME = ['Mailops Bench', 'bench@mailops.test'];
const ATTACHMENTS = [
  ['report.pdf', 'application/pdf'], ['photo.jpg', 'image/jpeg'], ['scan.png', 'image/png'],
  ['archive.zip', 'application/zip'], ['Präsentation.pptx', 'application/vnd.openxmlformats-officedocument.presentationml.presentation'],
  ['data.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
];

/** Writes `count` messages of `profile` into the folders of one Maildir; returns what it wrote. */
export function generateMailbox(maildir, { count, profile, seed }) {
  const owner = statSync(maildir);
  const text = new TextSource(prng(seed));
  const rng = prng(seed + 1);
  const bytes = byteStream(seed);
  const threads = [];
  let total = 0;
  let written = 0;
  const perFolder = [];
  FOLDERS.forEach((folder, f) => {
    const n = f === FOLDERS.length - 1 ? count - written : Math.round(count * folder.share);
    const dir = join(folderDir(maildir, folder.path), 'cur');
    mkdirSync(dir, { recursive: true });
    let folderBytes = 0;
    for (let i = 0; i < n; i++) {
      const seq = written + i;
      const date = new Date(Date.UTC(2023, 0, 1) + Math.floor((seq / count) * 2.5 * 365 * 86400e3) + rng.int(0, 3600e3));
      const message = buildMessage(rng, text, bytes, { profile, folder: folder.path, date, seq, threads });
      const flags = messageFlags(rng, folder.path, seq / count);
      folderBytes += writeMaildirFile(dir, seq, message, date, flags, owner);
    }
    written += n;
    total += folderBytes;
    perFolder.push({ path: folder.path, count: n, bytes: folderBytes });
  });
  chownTree(maildir, owner);
  return { count: written, bytes: total, perFolder };
}

/** New mail for the incremental run: into new/ (no flags), as a delivery agent would put it. */
export function deliverNew(maildir, { counts, seed }) {
  const owner = statSync(maildir);
  const text = new TextSource(prng(seed));
  const rng = prng(seed + 1);
  const bytes = byteStream(seed);
  let total = 0;
  let seq = 0;
  for (const [path, n] of Object.entries(counts)) {
    const dir = join(folderDir(maildir, path), 'new');
    for (let i = 0; i < n; i++, seq++) {
      const date = new Date(Date.UTC(2025, 6, 1) + seq * 60e3);
      const message = buildMessage(rng, text, bytes, { profile: 'mixed', folder: path, date, seq: 1e7 + seq, threads: [] });
      total += writeMaildirFile(dir, 1e7 + seed * 1000 + seq, message, date, null, owner);
    }
  }
  return total;
}

function writeMaildirFile(dir, seq, message, date, flags, owner) {
  let lines = 0;
  for (let i = message.indexOf(10); i >= 0; i = message.indexOf(10, i + 1)) lines++;
  const seconds = Math.floor(date.getTime() / 1000);
  const base = `${seconds}.M${seq}P1.bench,S=${message.length},W=${message.length + lines}`;
  const file = join(dir, flags === null ? base : `${base}:2,${flags}`);
  writeFileSync(file, message);
  if (owner.uid !== process.getuid?.()) chownSync(file, owner.uid, owner.gid);
  // INTERNALDATE is the file's mtime in a Maildir.
  utimesSync(file, date, date);
  return message.length + lines;
}

function chownTree(maildir, owner) {
  if (owner.uid === process.getuid?.()) return;
  for (const folder of FOLDERS) {
    const dir = folderDir(maildir, folder.path);
    for (const sub of ['', 'cur', 'new', 'tmp']) chownSync(join(dir, sub), owner.uid, owner.gid);
  }
}

function messageFlags(rng, folder, age) {
  if (folder === 'Sent') return 'S';
  // Older mail is mostly read; the newest tenth has unread messages.
  const flags = [];
  if (rng.chance(0.04)) flags.push('F');
  if (rng.chance(0.12)) flags.push('R');
  if (age < 0.9 || rng.chance(0.5)) flags.push('S');
  return flags.join('');
}

/** Sentences drawn once from the word list and reused: bodies read like prose, built at memcpy speed. */
class TextSource {
  constructor(rng) {
    this.rng = rng;
    this.sentences = [];
    for (let i = 0; i < 4096; i++) {
      const words = [];
      for (let w = rng.int(6, 18); w > 0; w--) words.push(rng.pick(WORDS));
      const s = words.join(' ');
      this.sentences.push(`${s[0].toUpperCase()}${s.slice(1)}.`);
    }
  }

  /** About `size` bytes of paragraphs, one sentence a line (lines stay under 998 octets). */
  paragraphs(size) {
    const out = [];
    let length = 0;
    while (length < size) {
      const para = [];
      for (let n = this.rng.int(2, 6); n > 0 && length < size; n--) {
        const s = this.rng.pick(this.sentences);
        para.push(s);
        length += Buffer.byteLength(s) + 1;
      }
      out.push(para);
      length += 1;
    }
    return out;
  }

  subject() {
    const s = this.rng.pick(this.sentences);
    return s.slice(0, this.rng.int(20, Math.min(70, s.length))).replace(/\s+\S*$/, '');
  }
}

function encodedWord(value) {
  return /^[\x20-\x7e]*$/.test(value) ? value : `=?UTF-8?B?${Buffer.from(value).toString('base64')}?=`;
}

function address([name, email]) {
  return `${/^[\w .]+$/.test(name) ? name : /^[\x20-\x7e]*$/.test(name) ? `"${name.replace(/"/g, '\\"')}"` : encodedWord(name)} <${email}>`;
}

function base64Lines(buf) {
  const b64 = Buffer.from(buf.toString('base64'), 'latin1');
  const lines = Math.ceil(b64.length / 76);
  const out = Buffer.allocUnsafe(b64.length + lines);
  let o = 0;
  for (let i = 0; i < b64.length; i += 76) {
    o += b64.copy(out, o, i, Math.min(i + 76, b64.length));
    out[o++] = 10;
  }
  return out;
}

function quotedPrintable(text) {
  return Buffer.from(text, 'utf8')
    .toString('latin1')
    .replace(/[=\x80-\xff]/g, (c) => `=${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

function buildMessage(rng, text, bytes, { profile, folder, date, seq, threads }) {
  // Size class and target size in bytes.
  let size;
  let attachment = 0;
  if (profile === 'small') size = rng.int(3, 10) * 1024;
  else {
    const r = rng.next();
    if (r < 0.009) {
      size = rng.int(1024, 5120) * 1024;
      attachment = size;
    } else if (r < 0.12) {
      size = rng.int(50, 500) * 1024;
      attachment = size;
    } else size = rng.int(2, 20) * 1024;
  }

  const from = folder === 'Sent' ? ME : rng.pick(PEOPLE);
  const to = folder === 'Sent' ? [rng.pick(PEOPLE), ...(rng.chance(0.3) ? [rng.pick(PEOPLE)] : [])] : [ME, ...(rng.chance(0.2) ? [rng.pick(PEOPLE)] : [])];
  const messageId = `<${seq.toString(36)}.${rng.int(1e5, 1e6).toString(36)}@${from[1].split('@')[1]}>`;
  const headers = [];
  headers.push(`Return-Path: <${from[1]}>`);
  for (let hop = rng.int(1, 3); hop > 0; hop--) {
    headers.push(`Received: from mx${hop}.${from[1].split('@')[1]} (mx${hop}.example.net [192.0.2.${rng.int(1, 254)}])\n\tby mail.mailops.test with ESMTPS id ${rng.int(1e8, 1e9).toString(36)}\n\tfor <bench@mailops.test>; ${date.toUTCString().replace('GMT', '+0000')}`);
  }
  if (rng.chance(0.4)) {
    headers.push(`DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=${from[1].split('@')[1]}; s=sel1;\n\th=from:to:subject:date:message-id; bh=${bytes(32).toString('base64')};\n\tb=${base64Lines(bytes(256)).toString('latin1').trimEnd().replace(/\n/g, '\n\t ')}`);
  }
  headers.push(`From: ${address(from)}`);
  headers.push(`To: ${to.map(address).join(', ')}`);
  if (rng.chance(0.25)) headers.push(`Cc: ${address(rng.pick(PEOPLE))}`);
  let subject = text.subject();
  if (threads.length && rng.chance(0.3)) {
    const parent = rng.pick(threads);
    subject = `Re: ${parent.subject}`;
    headers.push(`In-Reply-To: ${parent.id}`);
    headers.push(`References: ${[...parent.refs, parent.id].slice(-8).join('\n ')}`);
    threads.push({ id: messageId, subject: parent.subject, refs: [...parent.refs, parent.id].slice(-8) });
  } else {
    if (rng.chance(0.15)) subject = `${subject} – ${rng.pick(['Entwurf', 'größere Änderung', 'résumé', '会议'])}`;
    threads.push({ id: messageId, subject, refs: [] });
  }
  if (threads.length > 200) threads.splice(0, threads.length - 200);
  headers.push(`Subject: ${encodedWord(subject)}`);
  headers.push(`Date: ${date.toUTCString().replace('GMT', '+0000')}`);
  headers.push(`Message-ID: ${messageId}`);
  if (folder.startsWith('Lists/')) {
    headers.push('List-Id: Node development <node-dev.lists.example>');
    headers.push('List-Unsubscribe: <mailto:node-dev-unsubscribe@lists.example>, <https://lists.example/u/node-dev>');
    headers.push('Precedence: list');
  }
  if (rng.chance(0.3)) headers.push(`X-Mailer: ${rng.pick(['Thunderbird 115.6', 'Apple Mail (2.3731)', 'Microsoft Outlook 16.0', 'mutt/2.2.12'])}`);
  headers.push('MIME-Version: 1.0');

  const headerBytes = headers.join('\n').length + 200;
  const textSize = Math.max(600, attachment ? rng.int(1, 4) * 1024 : size - headerBytes);
  const html = rng.chance(0.45);
  const latin1 = !html && rng.chance(0.1);
  const paragraphs = text.paragraphs(html ? Math.floor(textSize / 2) : textSize);
  const plain = paragraphs.map((p) => p.join('\n')).join('\n\n');
  const plainPart = latin1
    ? { type: 'text/plain; charset=iso-8859-1', encoding: '8bit', body: Buffer.from(plain, 'latin1') }
    : rng.chance(0.5)
      ? { type: 'text/plain; charset=utf-8', encoding: 'quoted-printable', body: Buffer.from(quotedPrintable(plain), 'latin1') }
      : { type: 'text/plain; charset=utf-8', encoding: '8bit', body: Buffer.from(plain) };
  let body = plainPart;
  if (html) {
    const markup = `<html><head><style>p { margin: 0 0 1em; }</style></head><body>\n${paragraphs
      .map((p) => `<p>${p.join('<br>\n')}</p>`)
      .join('\n')}\n</body></html>`;
    body = multipart('alternative', rng, [plainPart, { type: 'text/html; charset=utf-8', encoding: 'quoted-printable', body: Buffer.from(quotedPrintable(markup), 'latin1') }]);
  }
  if (attachment) {
    const [name, type] = rng.pick(ATTACHMENTS);
    const raw = Math.max(1024, Math.floor((attachment - textSize - headerBytes) * 0.74));
    body = multipart('mixed', rng, [
      body,
      {
        type: `${type}; name="${encodedWord(name)}"`,
        encoding: 'base64',
        disposition: `attachment; filename="${encodedWord(name)}"`,
        body: base64Lines(bytes(raw)),
      },
    ]);
  }
  return Buffer.concat([Buffer.from(`${headers.join('\n')}\nContent-Type: ${body.type}\nContent-Transfer-Encoding: ${body.encoding}\n\n`), body.body]);
}

function multipart(subtype, rng, parts) {
  const boundary = `=_bench_${rng.int(1e8, 1e9).toString(36)}_${subtype}`;
  const chunks = [];
  for (const part of parts) {
    chunks.push(Buffer.from(`--${boundary}\nContent-Type: ${part.type}\nContent-Transfer-Encoding: ${part.encoding}\n${part.disposition ? `Content-Disposition: ${part.disposition}\n` : ''}\n`));
    chunks.push(part.body);
    chunks.push(Buffer.from('\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\n`));
  const encoding = parts.some((p) => p.encoding === '8bit') ? '8bit' : '7bit';
  return { type: `multipart/${subtype}; boundary="${boundary}"`, encoding, body: Buffer.concat(chunks) };
}
