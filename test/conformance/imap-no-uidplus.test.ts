// The conformance suite against a Dovecot without UIDPLUS (nor CONDSTORE or SORT): MOVE still
// moves, but deleting for good would need a plain EXPUNGE, which could remove messages someone
// else marked \Deleted, so mailops says exit 6 there.
import { describeBackend } from './suite.js';
import { BASE_CAPABILITIES, imapHarness } from './imap-harness.js';

describeBackend(imapHarness(`${BASE_CAPABILITIES} MOVE SPECIAL-USE`));
