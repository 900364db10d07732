// A bare HTTPS client for tests that talk to the Graph fake directly, trusting the suite's CA:
// the Gmail fake's (Node's fetch cannot take a CA in-process), which returns the exact bytes that
// the `$value` checks need.
export { gmailClient as graphClient, type HttpAnswer, type HttpCall } from '../gmail/client.js';
