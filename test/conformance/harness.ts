// What the conformance suite (suite.ts) needs from a backend, and nothing backend-specific: how
// to get a fresh connected account, how to put mail in it and change it as another client would,
// and how to read the server's truth back. The suite itself only runs the built CLI; an IMAP
// harness (imap-harness.ts) speaks IMAP here, a Gmail or Graph harness will speak to its fake.
// Messages are named by their Message-ID header, which every backend can search for.
import type { CliOptions, CliResult } from '../support/cli.js';

/** The flags every backend has, as booleans (the contract prints them as `\Seen`, `\Flagged`, `\Answered`). */
export interface NeutralFlags {
  seen: boolean;
  flagged: boolean;
  answered: boolean;
}

export interface SeedMessage {
  /** The RFC 5322 bytes, exactly as `read --raw` must give them back. */
  raw: Buffer;
  /** Its Message-ID header, angle brackets included: how the harness finds it again. */
  messageId: string;
  /** Arrival date (IMAP INTERNALDATE, Gmail internalDate, Graph receivedDateTime). */
  date: Date;
  flags?: Partial<NeutralFlags>;
}

/**
 * Behaviour a backend may lack. The contract says what a user then sees (exit 6), so the suite
 * skips the behaviour test with the reason in its title and asserts the exit 6 instead.
 */
export type Feature =
  /** `move --to` and `move --trash`. */
  | 'move'
  /** `move --expunge --yes` (deleting for good). */
  | 'expunge'
  /**
   * Listing by arrival date when messages were added out of date order (a migrated mailbox).
   * IMAP needs SORT for it; without, the contract lists by UID, the order messages were added.
   */
  | 'arrivalOrder'
  /** An answered state (IMAP \\Answered); without it no message is answered and `is:answered` finds none. */
  | 'answered'
  /** A folder with the role `archive` (`@archive`); without it the harness's archive folder is a plain one. */
  | 'archiveRole';

export interface BackendHarness {
  /** Shown in the describe title, e.g. `imap (IMAP4rev1 UIDPLUS)`. */
  name: string;
  /** Folder paths as `folders` prints them, for the roles the suite uses. */
  folders: { inbox: string; sent: string; trash: string; archive: string };
  /** Each feature the backend lacks, with why (said in the skip's title). */
  lacks: Partial<Record<Feature, string>>;
  /** 'client': mailops appends the copy to Sent itself (`saved_to` names it); 'provider': the server files it. */
  sentCopy: 'client' | 'provider';
  /** Starts what the backend needs (servers, fakes); called once in beforeAll. */
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  /** A fresh account of its own, connected with `connect main` in its own MAILOPS_HOME. */
  newAccount(label: string): Promise<ConformanceAccount>;
}

export interface ConformanceAccount {
  /** The account's address: mail sent there arrives in its inbox. */
  address: string;
  /** Runs the built CLI against this account's home. */
  cli(args: string[], opts?: CliOptions): Promise<CliResult>;
  /** Puts messages into `folder` in the given order (for IMAP: APPEND with the date and flags). */
  seed(folder: string, messages: SeedMessage[]): Promise<void>;
  createFolder(path: string): Promise<void>;

  // Changes made by another client, behind mailops' back.
  setFlags(folder: string, messageId: string, change: Partial<NeutralFlags>): Promise<void>;
  expunge(folder: string, messageId: string): Promise<void>;
  move(from: string, messageId: string, to: string): Promise<void>;
  /** New mail arriving in the inbox. */
  deliver(message: SeedMessage): Promise<void>;

  // The server's truth.
  /** Flags of the message in `folder`; undefined when the folder does not hold it. */
  flags(folder: string, messageId: string): Promise<NeutralFlags | undefined>;
  /** Message-IDs of everything `folder` holds, sorted. */
  messageIds(folder: string): Promise<string[]>;
}
