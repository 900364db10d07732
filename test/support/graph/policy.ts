// Who may call what and how often: the delegated permission each Graph mail method needs (its
// reference page's "Permissions" table), and Outlook's per-mailbox throttling as Graph documents
// it ("Outlook service limits": 10,000 requests per 10 minutes and 4 concurrent requests per app
// per mailbox), answered with 429 and Retry-After.
import { GraphError } from './errors.js';

export type GraphApi =
  | 'mailFolders.list' | 'mailFolders.get' | 'mailFolders.childFolders'
  | 'messages.list' | 'messages.get' | 'messages.value' | 'messages.update' | 'messages.move'
  | 'messages.delete' | 'messages.permanentDelete' | 'messages.create' | 'messages.send' | 'messages.delta'
  | 'sendMail' | 'attachments.add' | 'attachments.createUploadSession';

export const GRAPH_RESOURCE = 'https://graph.microsoft.com/';

/** Delegated permissions, bare; a token's scopes may carry the resource prefix. */
const READ_BASIC = ['Mail.ReadBasic', 'Mail.Read', 'Mail.ReadWrite'];
const READ = ['Mail.Read', 'Mail.ReadWrite'];
const WRITE = ['Mail.ReadWrite'];
const SEND = ['Mail.Send'];

export const API_SCOPES: Record<GraphApi, readonly string[]> = {
  'mailFolders.list': READ_BASIC,
  'mailFolders.get': READ_BASIC,
  'mailFolders.childFolders': READ_BASIC,
  'messages.list': READ,
  'messages.get': READ,
  'messages.value': READ,
  'messages.delta': READ,
  'messages.update': WRITE,
  'messages.move': WRITE,
  'messages.delete': WRITE,
  'messages.permanentDelete': WRITE,
  'messages.create': WRITE,
  'attachments.add': WRITE,
  'attachments.createUploadSession': WRITE,
  'messages.send': SEND,
  'sendMail': SEND,
};

/** `https://graph.microsoft.com/Mail.Read` and `Mail.Read` are the same permission. */
export function bareScope(scope: string): string {
  return scope.startsWith(GRAPH_RESOURCE) ? scope.slice(GRAPH_RESOURCE.length) : scope;
}

export function allowed(api: GraphApi, scopes: readonly string[]): boolean {
  const accepted = API_SCOPES[api];
  return scopes.some((s) => accepted.some((a) => a.toLowerCase() === bareScope(s).toLowerCase()));
}

export interface ThrottleOptions {
  /** Requests in flight per mailbox (default 4, Outlook's MailboxConcurrency); the next gets 429. */
  maxConcurrent?: number;
  /** Requests per window per mailbox (default 10,000); Infinity switches it off. */
  requestsPerWindow?: number;
  /** The window (default 600,000 ms: 10 minutes); scale both down for a bench. */
  windowMs?: number;
  /** Retry-After (seconds) of a concurrency refusal (default 1). */
  concurrencyRetryAfter?: number;
}

/** Per-mailbox concurrency and a sliding request window; tracks the most seen in flight. */
export class Throttle {
  private inFlight = new Map<string, number>();
  private maxSeen = new Map<string, number>();
  private spent = new Map<string, number[]>();

  constructor(private opts: ThrottleOptions = {}) {}

  configure(opts: ThrottleOptions): void {
    this.opts = { ...this.opts, ...opts };
  }

  /** Takes a concurrency slot (or throws 429 MailboxConcurrency); call the returned release when done. */
  enter(user: string): () => void {
    const now = this.inFlight.get(user) ?? 0;
    if (now >= (this.opts.maxConcurrent ?? 4)) {
      throw new GraphError(429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', { 'retry-after': String(this.opts.concurrencyRetryAfter ?? 1) }, 'MailboxConcurrency');
    }
    this.inFlight.set(user, now + 1);
    this.maxSeen.set(user, Math.max(this.maxSeen.get(user) ?? 0, now + 1));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight.set(user, (this.inFlight.get(user) ?? 1) - 1);
    };
  }

  /** Spends one request of the mailbox's window, or throws 429 with the wait until one frees. */
  spend(user: string, at = Date.now()): void {
    const limit = this.opts.requestsPerWindow ?? 10_000;
    const windowMs = this.opts.windowMs ?? 600_000;
    const log = (this.spent.get(user) ?? []).filter((t) => t > at - windowMs);
    this.spent.set(user, log);
    if (log.length >= limit) {
      const waitMs = Math.max(log[log.length - limit]! + windowMs - at, 1);
      throw new GraphError(429, 'TooManyRequests', 'Please retry again later.', { 'retry-after': String(Math.ceil(waitMs / 1000)) }, '429');
    }
    log.push(at);
  }

  maxInFlightSeen(user: string): number {
    return this.maxSeen.get(user) ?? 0;
  }

  inFlightNow(user: string): number {
    return this.inFlight.get(user) ?? 0;
  }

  reset(): void {
    this.spent.clear();
    this.maxSeen.clear();
  }
}
