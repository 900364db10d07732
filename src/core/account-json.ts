/**
 * The JSON objects commands print for an account: `connect --json`'s `account` (password and OAuth
 * alike) and one entry of `status --json` (also the base of `status --diagnose/--probe`). They are
 * the scripting contract, so they are built in one place below the CLI.
 */
import type { AccountConfig } from '../domain/types.js';
import { isoDate } from './iso-date.js';
import type { AccountStatus } from './status.js';

/** `backend` says how the account's mail is reached, as `connect --backend` names it: `imap` or `api` (the Gmail API, Graph). */
export function backendJson(config: AccountConfig): 'imap' | 'api' {
  return config.backend === 'imap' ? 'imap' : 'api';
}

export function accountJson(config: AccountConfig, isDefault: boolean, repaired: boolean) {
  return {
    name: config.name,
    provider: config.provider,
    backend: backendJson(config),
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

export function statusJson(s: AccountStatus) {
  const c = s.account.config;
  return {
    name: c.name,
    provider: c.provider,
    backend: backendJson(c),
    email: c.email,
    state: s.state,
    is_healthy: s.healthy,
    token_expires_at: isoDate(s.account.state.tokenExpiresAt),
    // OAuth accounts: the scopes the provider granted; null for password accounts.
    scopes: c.oauth?.grantedScopes ?? null,
    last_sync_at: isoDate(s.account.state.lastSyncAt),
    last_error: s.lastError,
    latency_ms: s.latencyMs,
    checks: s.checks.map((k) => ({ step: k.step, ok: k.ok, ms: k.ms, detail: k.detail })),
  };
}
