// The conformance suite against IMAP: the bed's full Dovecot, and Dovecots started here with fewer
// extensions, so that what mailops does without them (no SORT, no CONDSTORE, no SPECIAL-USE, no
// MOVE or no UIDPLUS) is held to the same contract.
import { describeBackend } from './suite.js';
import { imapHarness } from './imap-harness.js';

// What the bed's Dovecot offers besides the extensions under test (see sync-servers.test.ts).
const BASE = 'IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE';

describeBackend(imapHarness());
// No MOVE: move is COPY + UID EXPUNGE; no SORT, CONDSTORE or SPECIAL-USE (roles by folder names).
describeBackend(imapHarness('IMAP4rev1 UIDPLUS'));
// No UIDPLUS: MOVE still moves, but deleting for good would need a plain EXPUNGE, so it is exit 6.
describeBackend(imapHarness(`${BASE} MOVE SPECIAL-USE`));
