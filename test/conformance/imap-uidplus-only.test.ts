// The conformance suite against a Dovecot offering IMAP4rev1 and UIDPLUS only: move is COPY +
// UID EXPUNGE (no MOVE), lists are in UID order (no SORT), sync compares flags (no CONDSTORE),
// and folder roles come from well-known names (no SPECIAL-USE).
import { describeBackend } from './suite.js';
import { imapHarness } from './imap-harness.js';

describeBackend(imapHarness('IMAP4rev1 UIDPLUS'));
