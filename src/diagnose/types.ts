/** What a staged diagnosis produces: steps like status' checks, with the failure explained. */
import type { CheckStep, ServerEndpoint } from '../domain/types.js';
import type { Failure, FailureCode, CheckedProtocol } from '../net/failures.js';

/** One step; `code` and `hint` only on the failed one, `data` where there is more to say. */
export interface DiagnosticStep extends CheckStep {
  code?: FailureCode;
  hint?: string;
  data?: Record<string, unknown>;
}

export interface TlsReport {
  version: string | null;
  cipher: string | null;
  subject: string;
  /** subjectAltName entries, e.g. "DNS:mail.example.com", "IP Address:127.0.0.1". */
  sans: string[];
  issuer: string;
  not_before: string;
  not_after: string;
  days_left: number;
  /** Subjects from the server's certificate up to the last issuer known. */
  chain: string[];
  /** "trusted", or what is wrong with it ("self-signed", "expired", ...; "not checked (--insecure)" with --insecure). */
  verdict: string;
}

export interface ProtocolDiagnosis {
  protocol: CheckedProtocol;
  endpoint: ServerEndpoint;
  steps: DiagnosticStep[];
  /** The first failure, explained; null when every step passed. */
  failure: Failure | null;
  /** The address connected to. */
  address: string | null;
  tls: TlsReport | null;
  /** Everything up to and including the first command, in ms. */
  total_ms: number;
  /** IMAP, when metrics were asked for: the examined folder's counts. */
  mailbox?: MailboxMetrics;
}

export interface MailboxMetrics {
  folder: string;
  messages: number;
  unseen: number;
  /** Age of the oldest unseen message in seconds (by its arrival time); null when none is unseen. */
  oldest_unseen_age_s: number | null;
}
