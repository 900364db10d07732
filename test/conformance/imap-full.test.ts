// The conformance suite against the bed's full Dovecot (CONDSTORE, QRESYNC, MOVE, UIDPLUS,
// SPECIAL-USE, LIST-STATUS, SORT). One file per server, so that vitest runs them side by side.
import { describeBackend } from './suite.js';
import { imapHarness } from './imap-harness.js';

describeBackend(imapHarness());
