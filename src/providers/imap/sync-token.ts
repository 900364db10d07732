/**
 * The IMAP feed's sync token for one folder: what the cache keeps between runs, opaque to
 * everything but src/providers/imap/sync.ts. Small JSON, 64-bit values as decimal strings
 * (exact, never a float). Schema 4 (src/store/migrations.ts) wrote the same shape from the
 * per-folder cursors of schema 3, so a sync right after the upgrade carries on incrementally.
 */
export interface ImapFolderState {
  uidValidity: string;
  /** UIDNEXT, HIGHESTMODSEQ and the message count when the folder was last finished. */
  uidNext: number | null;
  highestModseq: string | null;
  messageCount: number | null;
  /** Every UID up to this one has been fetched. */
  lastUid: number;
  /** The folder was finished once: only then can an unchanged STATUS skip it. */
  done: boolean;
}

interface TokenJson {
  v: string;
  n: number | null;
  m: string | null;
  l: number;
  c: number | null;
  d: boolean;
}

export function encodeFolderToken(state: ImapFolderState): string {
  const json: TokenJson = { v: state.uidValidity, n: state.uidNext, m: state.highestModseq, l: state.lastUid, c: state.messageCount, d: state.done };
  return JSON.stringify(json);
}

/** Null for a token this feed did not write (or garbage): the folder then starts over. */
export function decodeFolderToken(token: string | undefined): ImapFolderState | null {
  if (token === undefined) return null;
  let json: Partial<TokenJson>;
  try {
    json = JSON.parse(token) as Partial<TokenJson>;
  } catch {
    return null;
  }
  const count = (value: unknown) => (typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : null);
  if (typeof json !== 'object' || json === null || typeof json.v !== 'string' || count(json.l) === null) return null;
  return {
    uidValidity: json.v,
    uidNext: count(json.n),
    highestModseq: typeof json.m === 'string' ? json.m : null,
    messageCount: count(json.c),
    lastUid: json.l as number,
    done: json.d === true,
  };
}
