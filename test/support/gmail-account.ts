// A Gmail API account seeded into a MAILOPS_HOME (see api-account.ts): for the conformance
// harness and the Gmail benchmark. The token is the Gmail fake's own (GmailServer.token).
import { seedApiAccount, type SeededAccount } from './api-account.js';

export function seedGmailApiAccount(home: string, opts: SeededAccount): Promise<void> {
  return seedApiAccount(home, 'gmail', opts);
}
