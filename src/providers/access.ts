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
import { GMAIL_API_SCOPES, grantsChanges, graphGrantsChanges, scopeName } from './oauth-servers.js';

/**
 * 'change': mark, move; 'send': send (Gmail: as 'change'; Graph: Mail.Send, a scope of its own);
 * 'delete': delete for good (Gmail's batchDelete wants the full scope; Graph's Mail.ReadWrite has it).
 */
export type Access = 'change' | 'send' | 'delete';

/** The scopes an API account was granted at connect; empty when none were recorded (or an IMAP account). */
function apiGrant(config: AccountConfig): readonly string[] {
  return config.backend === 'imap' ? [] : (config.oauth?.grantedScopes ?? []);
}

/** The read-only scope of the account's API, for messages. */
function readOnlyScope(config: AccountConfig): string {
  return config.backend === 'graph' ? 'Mail.Read' : 'gmail.readonly';
}

/** Whether the account holds a read-only grant (an API account whose scopes allow no change). */
export function isReadOnlyGrant(config: AccountConfig): boolean {
  const granted = apiGrant(config);
  return granted.length > 0 && !(config.backend === 'graph' ? graphGrantsChanges(granted) : grantsChanges(granted));
}

/**
 * Throws INSUFFICIENT_SCOPE (exit 3) when the account's grant does not allow `what` ("mark
 * messages", "send mail"), naming the connect that gives the scope.
 */
export function requireAccess(config: AccountConfig, access: Access, what: string): void {
  if (isReadOnlyGrant(config)) {
    throw new MailopsError('INSUFFICIENT_SCOPE', `${config.name} was connected read-only (${readOnlyScope(config)}): it cannot ${what}`, {
      hint: `run mailops connect ${config.name} --backend api (without --read-only) to grant ${config.backend === 'graph' ? 'Mail.ReadWrite and Mail.Send' : 'gmail.modify'}`,
    });
  }
  const granted = apiGrant(config);
  if (config.backend === 'graph') {
    // Mail.ReadWrite deletes for good too; sending needs Mail.Send of its own.
    if (access === 'send' && granted.length > 0 && !granted.some((s) => scopeName(s) === 'mail.send')) {
      throw new MailopsError('INSUFFICIENT_SCOPE', `${config.name} cannot ${what}: it was not granted Mail.Send`, { hint: `run mailops connect ${config.name} --backend api` });
    }
    return;
  }
  const full = GMAIL_API_SCOPES.full[0]!;
  if (access === 'delete' && granted.length > 0 && !granted.includes(full)) {
    throw new MailopsError('INSUFFICIENT_SCOPE', `${config.name} cannot ${what}: deleting for good needs the full Gmail scope (${full}), which it was not granted`, {
      hint: `run mailops connect ${config.name} --backend api --scope-full, or use move --trash`,
    });
  }
}
