/**
 * The contract every mail backend implements (IMAP now; Gmail API and
 * Microsoft Graph later). Adapters translate provider types to the domain
 * types and do nothing else; the use cases in src/core combine these calls.
 *
 * Optional methods are capabilities a backend has natively. The core falls
 * back where it can (move = copy + delete) and otherwise reports UNSUPPORTED.
 */
import type {
  AccountConfig,
  BackendKind,
  Envelope,
  FlagChange,
  Folder,
  MessageRef,
  OutgoingMessage,
  Page,
  PageRequest,
  SendReceipt,
  VerifyResult,
} from './types.js';
import type { QueryNode } from './query.js';
import type { SyncEvent, SyncOptions } from './sync.js';

export type { BackendKind };

export interface FetchedMessage {
  raw: Buffer;
  envelope: Envelope;
}

/**
 * What a change to messages did: how many it changed, and which of the refs it did not find
 * (gone since they were listed, renumbered, or never there). Those are not an error here: the
 * core decides (none found: exit 5; some: exit 1, naming them).
 */
export interface ChangeOutcome {
  processed: number;
  missing: MessageRef[];
}

export interface ListOptions {
  /** Filter; null lists everything. `ls --unread --since` is compiled into one too. */
  query: QueryNode | null;
  page: PageRequest;
}

export interface MailProvider {
  readonly kind: BackendKind;

  /** Log in and run one cheap command; resolves with the steps and the round-trip time. */
  verify(signal: AbortSignal): Promise<VerifyResult>;
  /** Log in to the submission side (SMTP) without sending anything. */
  verifySend(signal: AbortSignal): Promise<VerifyResult>;

  listFolders(signal: AbortSignal): Promise<Folder[]>;

  /**
   * Newest first, `folder` being a folder id (core resolves paths and @roles first). Pages by
   * `options.page.cursor` where the backend pages by token, else by page number. Throws
   * FOLDER_NOT_FOUND for a missing folder.
   */
  list(folder: string, options: ListOptions, signal: AbortSignal): Promise<Page<Envelope>>;

  /**
   * One message: the RFC 5322 bytes exactly as stored, with its envelope (the
   * fields `ls` prints) from the same round trip. `peek` leaves \Seen alone;
   * without it the message is marked read. Throws MESSAGE_NOT_FOUND.
   */
  fetchMessage(ref: MessageRef, options: { peek: boolean }, signal: AbortSignal): Promise<FetchedMessage>;

  setFlags(refs: MessageRef[], change: FlagChange, signal: AbortSignal): Promise<ChangeOutcome>;

  send(message: OutgoingMessage, signal: AbortSignal): Promise<SendReceipt>;

  /** Stores a message in a folder (the copy in Sent). */
  append?(folder: string, raw: Buffer, flags: FlagChange, signal: AbortSignal): Promise<void>;

  /** Moves natively into the folder with id `to`. */
  move?(refs: MessageRef[], to: string, signal: AbortSignal): Promise<ChangeOutcome>;

  /** Deletes for good (IMAP: \Deleted + UID EXPUNGE of exactly these UIDs). */
  deleteForever?(refs: MessageRef[], signal: AbortSignal): Promise<ChangeOutcome>;

  /**
   * The change feed `sync` consumes (src/domain/sync.ts). `state` maps each sync scope ('' for the
   * account, else a folder id) to the opaque token last committed for it.
   */
  syncChanges?(state: ReadonlyMap<string, string>, options: SyncOptions, signal: AbortSignal): AsyncIterable<SyncEvent>;

  /**
   * The provider-native form of a query, for `search --explain`: what this server would be sent,
   * so it may ask the server what it supports (IMAP: SORT, WITHIN).
   */
  explain?(query: QueryNode | null, folder: string, signal: AbortSignal): Promise<string>;

  /** API quota units this provider has spent (the Gmail API's per-user quota); absent where there is none. */
  quotaUnits?(): number;

  close(): Promise<void>;
}

/** How a provider proves who it is. Secrets are resolved by src/secrets before this point. */
export type Credentials =
  | { kind: 'password'; user: string; password: string }
  | {
      kind: 'oauth2';
      user: string;
      /**
       * A valid access token, refreshed silently when it is about to expire. `forceRefresh` gets a
       * new one even if the cached one looks valid: for a server that rejected it (revoked early).
       */
      accessToken: (options?: { forceRefresh?: boolean }) => Promise<string>;
    };

/** Per-run settings a provider needs from the CLI. */
export interface ProviderRuntime {
  /** Connection, greeting and socket timeouts. */
  timeoutMs: number;
  /** Receives protocol lines for --trace; null when tracing is off. Lines are redacted by the sink. */
  trace: ((source: 'imap' | 'smtp' | 'http' | 'dns', direction: 'C' | 'S' | '*', line: string) => void) | null;
  /**
   * The address to connect to for a host name, when MAILOPS_DNS_SERVERS names other DNS servers
   * (TLS still verifies the host name); absent or null: the system resolver applies.
   */
  resolveHost?: ((host: string) => Promise<string>) | null;
  /** Warnings for people (stderr). */
  warn: (message: string) => void;
  /** The run's environment, for the API backends' overrides (MAILOPS_GMAIL_API_URL, MAILOPS_GMAIL_QUOTA). */
  env?: NodeJS.ProcessEnv | undefined;
}

/**
 * Makes and reads a backend's message ids. Core and store treat ids as opaque strings; only the
 * codec knows what is inside (IMAP: folder, UIDVALIDITY and UID).
 */
export interface IdCodec {
  /**
   * What a user typed: an id `ls` printed, or a backend's short form (IMAP: a bare UID in
   * `folder`). Null when it cannot be one of this backend's ids.
   */
  parse(id: string, folder: string): MessageRef | null;
  /** Variables `sync --on-new` adds for a message of this backend (IMAP: MAILOPS_UIDVALIDITY). */
  hookVariables?(ref: MessageRef): Record<string, string>;
}

/**
 * What a backend can do natively. The core falls back or reports UNSUPPORTED (exit 6) for what
 * it cannot; the conformance suite skips exactly these, saying why.
 */
export interface BackendCapabilities {
  /** Folder ids are the paths users type (IMAP): a path needs no lookup before use. */
  folderIdIsPath: boolean;
  /** A message can be in several folders at once (Gmail labels). */
  multipleFolders: boolean;
  /** Any page can be fetched directly; otherwise `--page N` walks the cursors from the first. */
  randomAccessPaging: boolean;
  /** `total` is exact; otherwise it is the backend's estimate. */
  exactTotals: boolean;
  move: boolean;
  deleteForever: boolean;
  /** Stores a copy in Sent itself after sending; otherwise `send` appends one. */
  savesSentCopy: boolean;
  sync: boolean;
}

/** One backend as the registry (src/providers/registry.ts) knows it: rclone's `fs.RegInfo`. */
export interface BackendDefinition {
  kind: BackendKind;
  /** For help and errors: "IMAP/SMTP", "the Gmail API", "Microsoft Graph". */
  title: string;
  capabilities: BackendCapabilities;
  ids: IdCodec;
  /**
   * Loads the backend's code and does the set-up that needs no credentials (root certificates;
   * with `connectAhead`, the connection itself up to the login), so it can overlap with unlocking
   * the credentials. What it returns goes to create(). Optional: create() loads what it needs anyway.
   */
  prepare?(config: AccountConfig, runtime: ProviderRuntime, options: { connectAhead: boolean }): Promise<Prepared | undefined>;
  /** Loads the backend's code (lazily: --help never loads it) and makes a provider for the account. */
  create(config: AccountConfig, credentials: Credentials, runtime: ProviderRuntime, prepared?: Prepared): Promise<MailProvider>;
}

/** What a backend's prepare() made ahead (a connection), for its provider; discarded if never used. */
export interface Prepared {
  discard(): void;
}
