/**
 * Plain domain types shared by every layer. This folder imports nothing.
 * JSON output is derived from these types by the CLI (snake_case keys there).
 */

export type ProviderName = 'imap' | 'gmail' | 'outlook';
/**
 * How an account's mail is reached: IMAP/SMTP (any provider, OAuth ones with XOAUTH2), or a
 * provider's own API (the Gmail REST API, Microsoft Graph). Registered in src/providers/registry.ts.
 */
export type BackendKind = 'imap' | 'gmail' | 'graph';
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
  /** Accounts stored before backends existed have none: they are read as 'imap'. */
  backend: BackendKind;
  email: string;
  /** Login name; defaults to the address. */
  user: string;
  /** IMAP and SMTP servers: every 'imap' backend account has both; API accounts have neither. */
  imap: ServerEndpoint | null;
  smtp: ServerEndpoint | null;
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
 * A pointer to one message. `id` is the opaque id printed by ls/search and accepted anywhere:
 * only the account's backend (its id codec) knows what is inside. `folder` is the id of the
 * folder the message was listed in, or the one given with --folder.
 */
export interface MessageRef {
  id: string;
  folder: string;
}

/**
 * A message's state, the same on every backend (IMAP system flags, Gmail's UNREAD and STARRED
 * labels, Graph's isRead and flag).
 */
export interface MessageFlags {
  seen: boolean;
  flagged: boolean;
  answered: boolean;
  draft: boolean;
  /** Everything else, as the backend names it (IMAP: \\Deleted, $Forwarded, custom keywords). */
  keywords: string[];
}

/** What `mark` changes: true sets, false clears, absent leaves alone. */
export type FlagChange = Partial<Record<'seen' | 'flagged' | 'answered' | 'draft', boolean>>;

export interface Envelope {
  ref: MessageRef;
  /** The backend's number for the message in its folder where it has one (IMAP UID), else null. */
  uid: number | null;
  messageId: string | null;
  subject: string;
  from: Address | null;
  to: Address[];
  cc: Address[];
  /** The Date header, else the arrival time: what `ls` shows. */
  date: Date | null;
  /**
   * When the message arrived in the mailbox (IMAP INTERNALDATE, Gmail internalDate, Graph
   * receivedDateTime): what "newest first" orders by, on every backend and in the cache.
   */
  received: Date | null;
  size: number;
  flags: MessageFlags;
  hasAttachments: boolean;
}

export interface PageRequest {
  /** Page size. */
  limit: number;
  /** 1-based page number. */
  page: number;
  /**
   * Where the page starts, as the previous page's `nextCursor` said: backends that page by
   * token (Gmail, Graph) need it; a backend with random access (IMAP, the cache) ignores it.
   */
  cursor?: string | null;
}

export interface Page<T> {
  items: T[];
  /** Exact where the backend knows it; else its estimate, and `totalIsEstimate` says so. */
  total: number;
  totalIsEstimate: boolean;
  page: number;
  pageSize: number;
  hasNext: boolean;
  /** Opaque: give it back as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
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
  /** The mailbox the server says the login reached, where it says (the Gmail API's profile). */
  address?: string;
}
