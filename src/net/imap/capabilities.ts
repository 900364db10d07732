/**
 * IMAP capabilities, wherever a server states them (RFC 9051 7.2.2): a `* CAPABILITY` response,
 * or a `[CAPABILITY ...]` code on the greeting or on a tagged OK (after STARTTLS or a login).
 * Names are kept as the server wrote them (diagnose shows them); compare with `hasCapability`.
 */
import type { Response } from './response.js';

/** The capabilities a response states, or null when it states none. */
export function capabilitiesOf(response: Response): string[] | null {
  if (response.type === 'continuation') return null;
  if (response.type === 'tagged') return response.code?.toUpperCase().startsWith('CAPABILITY ') ? split(response.code.slice('CAPABILITY '.length)) : null;
  if (response.kind === 'CAPABILITY') return split(response.text);
  const code = /^\[CAPABILITY ([^\]]*)\]/i.exec(response.text);
  return code ? split(code[1]!) : null;
}

export function hasCapability(capabilities: Iterable<string>, name: string): boolean {
  const wanted = name.toUpperCase();
  for (const c of capabilities) if (c.toUpperCase() === wanted) return true;
  return false;
}

/** The SASL mechanisms offered (`AUTH=PLAIN` → PLAIN), upper-cased. */
export function authMechanisms(capabilities: Iterable<string>): string[] {
  return [...capabilities].filter((c) => /^AUTH=/i.test(c)).map((c) => c.slice(5).toUpperCase());
}

function split(list: string): string[] {
  return list.split(/\s+/).filter(Boolean);
}
