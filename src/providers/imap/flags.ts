/**
 * IMAP system flags to the domain's neutral flags and back. Only the IMAP backend knows that
 * "read" is \Seen; the core and the cache speak of seen/flagged/answered/draft.
 */
import type { FlagChange, MessageFlags } from '../../domain/types.js';

const SYSTEM = { seen: '\\Seen', flagged: '\\Flagged', answered: '\\Answered', draft: '\\Draft' } as const;

export function flagsFromImap(flags: Iterable<string>): MessageFlags {
  const result: MessageFlags = { seen: false, flagged: false, answered: false, draft: false, keywords: [] };
  for (const flag of flags) {
    const lower = flag.toLowerCase();
    if (lower === '\\seen') result.seen = true;
    else if (lower === '\\flagged') result.flagged = true;
    else if (lower === '\\answered') result.answered = true;
    else if (lower === '\\draft') result.draft = true;
    // \Recent belongs to one session (and is gone from IMAP4rev2): it says nothing about the message.
    else if (lower !== '\\recent') result.keywords.push(flag);
  }
  return result;
}

/** The flags a change adds and removes, as IMAP names them. */
export function imapFlagChange(change: FlagChange): { add: string[]; remove: string[] } {
  const add: string[] = [];
  const remove: string[] = [];
  for (const key of Object.keys(SYSTEM) as Array<keyof typeof SYSTEM>) {
    if (change[key] === true) add.push(SYSTEM[key]);
    else if (change[key] === false) remove.push(SYSTEM[key]);
  }
  return { add, remove };
}
