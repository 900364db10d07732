// The conformance suite against a Dovecot with neither MOVE nor UIDPLUS (nor CONDSTORE or SORT):
// moving would need COPY and a plain EXPUNGE, which could remove messages someone else marked
// \Deleted, so mailops refuses move, --trash and --expunge with exit 6 there. This is the server
// on which the suite's skips and their exit-6 checks run.
import { describeBackend } from './suite.js';
import { BASE_CAPABILITIES, imapHarness } from './imap-harness.js';

describeBackend(imapHarness(`${BASE_CAPABILITIES} SPECIAL-USE`));
