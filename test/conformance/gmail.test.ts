// The conformance suite against the Gmail API backend, over the local Gmail fake (HTTPS, the
// batch endpoint, the real quota). What Gmail lacks is declared in gmail-harness.ts: no answered
// state, and no archive folder (a user label stands in; All Mail is role `all`).
import { describeBackend } from './suite.js';
import { gmailHarness } from './gmail-harness.js';

describeBackend(gmailHarness());
