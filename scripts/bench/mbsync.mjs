// mbsync (isync) as the reference of the sync benchmark: the same account, pulled into a Maildir.
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes an mbsync config for `account` (the bed's Dovecot over implicit TLS) that pulls every
 * folder into `dir/Maildir`, sync state beside the mail; returns its path.
 */
export function mbsyncConfig(dir, account, { fsync }) {
  mkdirSync(join(dir, 'Maildir'), { recursive: true });
  const file = join(dir, 'mbsyncrc');
  writeFileSync(
    file,
    `${fsync ? '' : 'FSync no\n'}
IMAPAccount bench
Host ${account.host}
Port ${account.port}
User ${account.user}
Pass "${account.password}"
SSLType IMAPS
CertificateFile ${account.caFile}

IMAPStore far
Account bench

MaildirStore near
Path ${join(dir, 'Maildir')}/
Inbox ${join(dir, 'Maildir', 'INBOX')}
SubFolders Verbatim

Channel bench
Far :far:
Near :near:
Patterns *
Create Near
Sync Pull
SyncState *
`,
    { mode: 0o600 },
  );
  return file;
}

/** Messages in a Maildir tree (files in cur/ and new/), and how many are flagged: to check mbsync's work. */
export function countMaildir(dir, counts = { messages: 0, flagged: 0 }) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (!statSync(path).isDirectory()) continue;
    if (name === 'cur' || name === 'new') {
      for (const file of readdirSync(path)) {
        counts.messages++;
        if (/:2,[A-Z]*F/.test(file)) counts.flagged++;
      }
    } else if (name !== 'tmp') countMaildir(path, counts);
  }
  return counts;
}
