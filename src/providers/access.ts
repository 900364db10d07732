/**
 * What an account's grant lets it do, from the scopes recorded at connect. The commands check it
 * before a provider is even made (so a refusal costs no request, and comes before a sync or an
 * --on-new command ran), and the Gmail provider checks it again for callers other than the CLI.
 * An account connected `--read-only` (Gmail's gmail.readonly) cannot mark, move, delete or send;
 * one without `--scope-full` cannot delete for good. Each refusal names the `connect` that gives
 * the scope. IMAP accounts and accounts with no recorded scopes are left to the server.
 */
import { MailopsError } from '../domain/errors.js';
import type { AccountConfig } from '../domain/types.js';
import { GMAIL_API_SCOPES, grantsChanges } from './oauth-servers.js';

/** 'change': mark, move, send; 'delete': delete for good (Gmail's batchDelete wants the full scope). */
export type Access = 'change' | 'delete';

/** The scopes an API account was granted at connect; empty when none were recorded (or an IMAP account). */
function apiGrant(config: AccountConfig): readonly string[] {
  return config.backend === 'gmail' ? (config.oauth?.grantedScopes ?? []) : [];
}

/** Whether the account holds a read-only grant (an API account whose scopes allow no change). */
export function isReadOnlyGrant(config: AccountConfig): boolean {
  const granted = apiGrant(config);
  return granted.length > 0 && !grantsChanges(granted);
}

/**
 * Throws INSUFFICIENT_SCOPE (exit 3) when the account's grant does not allow `what` ("mark
 * messages", "send mail"), naming the connect that gives the scope.
 */
export function requireAccess(config: AccountConfig, access: Access, what: string): void {
  if (isReadOnlyGrant(config)) {
    throw new MailopsError('INSUFFICIENT_SCOPE', `${config.name} was connected read-only (gmail.readonly): it cannot ${what}`, {
      hint: `run mailops connect ${config.name} --backend api (without --read-only) to grant gmail.modify`,
    });
  }
  const granted = apiGrant(config);
  const full = GMAIL_API_SCOPES.full[0]!;
  if (access === 'delete' && granted.length > 0 && !granted.includes(full)) {
    throw new MailopsError('INSUFFICIENT_SCOPE', `${config.name} cannot ${what}: deleting for good needs the full Gmail scope (${full}), which it was not granted`, {
      hint: `run mailops connect ${config.name} --backend api --scope-full, or use move --trash`,
    });
  }
}
