/**
 * Plain domain types shared by every layer. This folder imports nothing.
 * JSON output is derived from these types by the CLI (snake_case keys there).
 */

export type ProviderName = 'imap' | 'gmail' | 'outlook';
export type TlsMode = 'implicit' | 'starttls' | 'none';
export type SecretStoreKind = 'keychain' | 'file';

export interface ServerEndpoint {
  host: string;
  port: number;
  tls: TlsMode;
}

/** Everything needed to reach an account, minus its secrets (those live in the secret store). */
export interface AccountConfig {
  name: string;
  provider: ProviderName;
  email: string;
  /** Login name; defaults to the address. */
  user: string;
  imap: ServerEndpoint;
  smtp: ServerEndpoint;
  /** TLS verification disabled (stored on purpose, warned about at each use). */
  insecure: boolean;
  /** A private CA to trust, as an absolute path to a PEM file. */
  caFile: string | null;
  secretStore: SecretStoreKind;
  /** When set, the password is the output of this command, run at each use; nothing else is stored. */
  passwordCommand: string | null;
  priority: number;
  isDefault: boolean;
  createdAt: string;
  /** Gmail and Outlook accounts: how their OAuth grant was made (never a secret). */
  oauth?: OAuthSettings | null;
}

/**
 * The non-secret half of an OAuth grant. Tokens and a client secret live in the secret store
 * (keys `refresh_token`, `access_token`, `client_secret`, `msal_cache`).
 */
export interface OAuthSettings {
  /** The app registration's client id; a refresh token only works with the client it was issued to. */
  clientId: string;
  /** Whether a client secret is kept in the secret store (Google "installed" and "web" clients). */
  hasClientSecret: boolean;
  /** Microsoft: common, organizations, consumers or a tenant id; null for Google. */
  tenant: string | null;
  /** A fixed redirect URI (a Google "web" client's registered loopback URI), else null. */
  redirectUri: string | null;
  /** What was asked for, and what the provider granted. */
  scopes: string[];
  grantedScopes: string[];
  /** When the user consented: a Google app in "testing" mode loses its grants after 7 days. */
  grantedAt: string;
  /** Endpoints in force at connect time when they were overridden (MAILOPS_* variables); the variables win at each run. */
  endpoints: OAuthEndpointOverrides | null;
  /** Microsoft: MSAL's id of the signed-in account in its token cache. */
  homeAccountId: string | null;
}

export interface OAuthEndpointOverrides {
  googleAuthUrl?: string;
  googleTokenUrl?: string;
  googleRevokeUrl?: string;
  msAuthority?: string;
}

export interface AccountState {
  state: 'active' | 'needs_reauth' | 'expired' | 'revoked' | 'error' | 'not_configured';
  lastSyncAt: string | null;
  lastError: string | null;
  tokenExpiresAt: string | null;
}

export interface Address {
  name: string;
  address: string;
}

export type FolderRole = 'inbox' | 'sent' | 'drafts' | 'trash' | 'junk' | 'archive' | 'all' | 'flagged';

export interface Folder {
  /** Provider id: the path for IMAP, a label id for Gmail, a folder id for Graph. */
  id: string;
  /** Full path as users type it, with '/' or the server's delimiter. */
  path: string;
  /** Last path segment. */
  name: string;
  delimiter: string | null;
  role: FolderRole | null;
  unreadCount: number | null;
  totalCount: number | null;
  /** False for \Noselect folders that hold only children. */
  selectable: boolean;
}

/**
 * A pointer to one message. `id` is the opaque id printed by ls/search and
 * accepted anywhere; the other fields are its decoded parts.
 */
export interface MessageRef {
  id: string;
  folder: string;
  /** IMAP only. */
  uid?: number;
  /** IMAP only: the folder's UIDVALIDITY when the id was made, as a decimal string. */
  uidValidity?: string;
}

export type Flag = string; // '\\Seen', '\\Flagged', '\\Answered', '\\Draft', '\\Deleted', or a keyword

export interface Envelope {
  ref: MessageRef;
  messageId: string | null;
  subject: string;
  from: Address | null;
  to: Address[];
  cc: Address[];
  date: Date | null;
  size: number;
  flags: Flag[];
  hasAttachments: boolean;
}

export interface PageRequest {
  /** Page size. */
  limit: number;
  /** 1-based page number. */
  page: number;
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
  hasNext: boolean;
}

export interface FlagChange {
  add: Flag[];
  remove: Flag[];
}

export interface AttachmentInfo {
  filename: string;
  contentType: string;
  size: number;
}

/** A fully decoded message, as `read` shows it. */
export interface MessageContent {
  envelope: Envelope;
  bcc: Address[];
  replyTo: Address[];
  inReplyTo: string | null;
  references: string[];
  bodyText: string;
  bodyHtml: string | null;
  attachments: AttachmentInfo[];
  /** Header lines as they came (decoded), in order, for --headers. */
  headers: Array<{ name: string; value: string }>;
}

/** A message ready to hand to SMTP (or the Gmail / Graph send API). */
export interface OutgoingMessage {
  /** RFC 5322 bytes. */
  raw: Buffer;
  /** SMTP envelope: MAIL FROM and RCPT TO. */
  envelope: { from: string; to: string[] };
  messageId: string;
}

export interface SendReceipt {
  messageId: string;
  accepted: string[];
  rejected: string[];
  /** Whether the provider itself keeps a copy in Sent (Gmail, Graph); then we do not append one. */
  providerSavedCopy: boolean;
}

/** One step of a live check; `status` shows them, `status --diagnose` will show more of them. */
export interface CheckStep {
  step: string;
  ok: boolean;
  ms: number;
  detail: string;
}

export interface VerifyResult {
  checks: CheckStep[];
  latencyMs: number;
  capabilities: string[];
}
