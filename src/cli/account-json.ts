/** The `account` object `connect --json` prints, for password and OAuth accounts alike. */
import type { AccountConfig } from '../domain/types.js';

export function accountJson(config: AccountConfig, isDefault: boolean, repaired: boolean) {
  return {
    name: config.name,
    provider: config.provider,
    email: config.email,
    user: config.user,
    imap: config.imap,
    smtp: config.smtp,
    secret_store: config.passwordCommand ? 'command' : config.secretStore,
    insecure: config.insecure,
    is_default: isDefault,
    priority: config.priority,
    repaired,
  };
}
