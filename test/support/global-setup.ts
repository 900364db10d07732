// Global setup of the e2e project: one Dovecot and one SMTP server for the whole run, their
// coordinates provided to the test files (see bed.ts). Set MAILOPS_KEEP_TEST_TMP=1 to keep the
// run's folder (configs, mail, logs, spool) for a post-mortem.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { makeCa } from './certs.js';
import { startDovecot } from './dovecot.js';
import { startSmtp } from './smtp.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const tmpDir = mkdtempSync(join(tmpdir(), 'mailops-e2e-'));
  chmodSync(tmpDir, 0o755); // Dovecot's login and mail users must reach their folders inside
  const ca = await makeCa(join(tmpDir, 'ca'));
  const dovecot = await startDovecot({ dir: join(tmpDir, 'dovecot'), ca });
  const smtp = await startSmtp({ dovecot, ca, dir: join(tmpDir, 'smtp') });
  project.provide('mailBed', {
    host: dovecot.host,
    caFile: ca.certPath,
    imapsPort: dovecot.imapsPort,
    imapPort: dovecot.imapPort,
    lmtpPort: dovecot.lmtpPort,
    smtpPort: smtp.port,
    smtpsPort: smtp.smtpsPort,
    smtpPlainPort: smtp.plainPort,
    usersDir: dovecot.usersDir,
    mailDomain: dovecot.mailDomain,
    spoolDir: smtp.spoolDir,
    dovecotLog: dovecot.logFile,
    tmpDir,
  });
  return async () => {
    await smtp.stop();
    await dovecot.stop();
    if (process.env.MAILOPS_KEEP_TEST_TMP) console.error(`kept the e2e run folder ${tmpDir}`);
    else rmSync(tmpDir, { recursive: true, force: true });
  };
}
