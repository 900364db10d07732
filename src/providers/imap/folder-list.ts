/**
 * Every folder with its status over the wire client (wire/): one LIST-STATUS round trip where
 * the server offers it, else LIST and every STATUS sent at once. Used by sync's change feed
 * and by `folders` (and whatever resolves a folder name the cache does not know).
 */
import type { ListedFolder } from './folders.js';
import { listEntry, type WireClient } from './wire/client.js';
import { MalformedResponse, imapNumber, parseValues, text, type Untagged } from '../../net/imap/response.js';
import { decodeMailboxName, quoteMailbox } from '../../net/imap/utf7.js';

export interface FolderStatus {
  messages: number | null;
  unseen: number | null;
  uidNext: number | null;
  uidValidity: string | null;
  highestModseq: string | null;
}

/** `(MESSAGES 3 UIDNEXT 9 ...)` of a STATUS response. */
export function readStatus(values: unknown[]): FolderStatus {
  const status: FolderStatus = { messages: null, unseen: null, uidNext: null, uidValidity: null, highestModseq: null };
  for (let i = 0; i + 1 < values.length; i += 2) {
    const key = String(values[i]).toUpperCase();
    const value = String(values[i + 1]);
    // A value that is not a number is as good as absent (fuzzing found a NaN unread count stored).
    if (key === 'MESSAGES') status.messages = imapNumber(value);
    else if (key === 'UNSEEN') status.unseen = imapNumber(value);
    else if (key === 'UIDNEXT') status.uidNext = imapNumber(value);
    else if (key === 'UIDVALIDITY') status.uidValidity = /^\d{1,10}$/.test(value) ? value : null;
    else if (key === 'HIGHESTMODSEQ') status.highestModseq = /^\d{1,20}$/.test(value) ? value : null;
  }
  return status;
}

/**
 * Every folder with its status: one LIST-STATUS (RFC 5819) round trip, else LIST
 * and then every STATUS sent at once. Names are decoded from modified UTF-7.
 */
/**
 * STATUS commands in flight at once without LIST-STATUS: enough to hide any round trip behind
 * the answers (a STATUS answer is ~60 bytes), few enough that 100,000 folders do not hold
 * 100,000 pending commands.
 */
const STATUS_WINDOW = 500;

function forgiveRefusal(error: unknown): void {
  if ((error as { responseStatus?: string }).responseStatus === undefined) throw error;
}

export async function listFolders(client: WireClient): Promise<{ listed: ListedFolder[]; statuses: Map<string, FolderStatus> }> {
  const items = ['MESSAGES', 'UNSEEN', 'UIDNEXT', 'UIDVALIDITY', ...(client.condstore ? ['HIGHESTMODSEQ'] : [])].join(' ');
  const listStatus = client.capabilities.has('LIST-STATUS');
  const listed: ListedFolder[] = [];
  const statuses = new Map<string, FolderStatus>();
  const onStatus = (response: Untagged) => {
    const [name, values] = parseValues(response.segments);
    const raw = text(name);
    if (raw !== null && Array.isArray(values)) statuses.set(normalisePath(decodeMailboxName(raw), null), readStatus(values));
  };
  // RETURN needs LIST-EXTENDED (RFC 5258); without it, servers show special-use flags unasked.
  const extended = client.capabilities.has('LIST-EXTENDED') || listStatus;
  const returns = extended ? [client.capabilities.has('SPECIAL-USE') ? 'SPECIAL-USE' : '', listStatus ? `STATUS (${items})` : ''].filter(Boolean) : [];
  await client.command(`LIST "" "*"${returns.length ? ` RETURN (${returns.join(' ')})` : ''}`, (response) => {
    if (response.kind === 'STATUS') onStatus(response);
    if (response.kind !== 'LIST') return;
    const entry = listEntry(response);
    // Skipped, a folder would look deleted to sync (its cache gone) and to `folders`.
    if (!entry) throw new MalformedResponse('a LIST answer', response);
    const flags = new Set(entry.flags);
    const path = normalisePath(decodeMailboxName(entry.name), entry.delimiter);
    const parts = entry.delimiter ? path.split(entry.delimiter) : [path];
    listed.push({ path, name: parts.pop() ?? path, parentPath: parts.join(entry.delimiter ?? ''), delimiter: entry.delimiter ?? '', flags });
  });
  if (!listStatus) {
    const selectable = listed.filter((f) => !f.flags.has('\\Noselect') && !f.flags.has('\\NonExistent'));
    // A folder whose STATUS is refused is asked again, and reported, when its turn comes.
    // Pipelined, STATUS_WINDOW in flight (imapflow waits for each answer: 100,000 folders took
    // minutes); only a refusal (NO/BAD) is forgiven, a lost connection is not: half a list is no list.
    let next = 0;
    const sender = async () => {
      while (next < selectable.length) {
        const folder = selectable[next++]!;
        await client.command(`STATUS ${quoteMailbox(folder.path)} (${items})`, (r) => r.kind === 'STATUS' && onStatus(r)).catch(forgiveRefusal);
      }
    };
    await Promise.all(Array.from({ length: Math.min(STATUS_WINDOW, selectable.length) }, sender));
  }
  for (const folder of listed) {
    const status = statuses.get(folder.path);
    if (status) folder.status = { messages: status.messages ?? undefined, unseen: status.unseen ?? undefined };
  }
  return { listed, statuses };
}

/** INBOX in any case is INBOX; a leading delimiter some servers add is dropped. */
function normalisePath(path: string, delimiter: string | null): string {
  let out = delimiter && path.startsWith(delimiter) ? path.slice(delimiter.length) : path;
  if (out.toUpperCase() === 'INBOX') out = 'INBOX';
  return out;
}

