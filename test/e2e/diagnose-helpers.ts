// Shared steps of the diagnosis tests: connect --diagnose --json with the bed's healthy settings,
// one value changed, and the assertions every failure case makes.
import { expect } from 'vitest';
import { mailBed } from '../support/bed.js';
import { makeHome, runCli, type CliResult } from '../support/cli.js';
import type { MailUser } from '../support/users.js';
import { parseJson } from './helpers.js';

export interface Check {
  step: string;
  ok: boolean;
  ms: number;
  detail: string;
  code?: string;
  hint?: string;
  data?: Record<string, unknown>;
}

export interface Diagnosed {
  result: CliResult;
  home: string;
  checks: Check[];
  /** The first failed check. */
  failed: Check | undefined;
}

/** IMAP and SMTP flags pointing at the healthy bed; `overrides` replace single values. */
export function flags(user: MailUser, overrides: Record<string, string | null> = {}): string[] {
  const bed = mailBed();
  const values: Record<string, string | null> = {
    '--email': user.email,
    '--imap-host': bed.host,
    '--imap-port': String(bed.imapsPort),
    '--imap-tls': 'implicit',
    '--smtp-host': bed.host,
    '--smtp-port': String(bed.smtpPort),
    '--smtp-tls': 'starttls',
    '--ca-file': bed.caFile,
    '--timeout': '3',
    ...overrides,
  };
  return Object.entries(values).flatMap(([flag, value]) => (value === null ? [] : [flag, value]));
}

export async function diagnose(
  user: MailUser,
  overrides: Record<string, string | null> = {},
  password: string | null = user.password,
  env: Record<string, string> = {},
): Promise<Diagnosed> {
  const args = ['connect', 'probe', '--diagnose', '--json', ...flags(user, overrides), ...(password === null ? [] : ['--password-env', 'PW'])];
  const home = makeHome();
  const result = await runCli(args, { home, env: { PW: password ?? undefined, ...env } });
  const row = parseJson(result).accounts[0];
  expect(row.state).toBe('not_configured');
  const checks = row.checks as Check[];
  return { result, home, checks, failed: checks.find((c) => !c.ok) };
}

export function expectFailure(d: Diagnosed, step: string, code: string, exitCode: number): Check {
  expect(d.failed, JSON.stringify(d.checks, null, 1)).toBeDefined();
  expect(d.failed!.step).toBe(step);
  expect(d.failed!.code).toBe(code);
  expect(d.failed!.hint).toBeTruthy();
  expect(d.result.code).toBe(exitCode);
  // The diagnosis stops at the first failure of a protocol.
  const protocol = step.split('.')[0]!;
  const after = d.checks.slice(d.checks.indexOf(d.failed!) + 1);
  expect(after.every((c) => !c.step.startsWith(`${protocol}.`))).toBe(true);
  return d.failed!;
}


/** Servers a test file starts, stopped together in afterAll: `const { track, stopAll } = serverTracker()`. */
export function serverTracker() {
  const servers: Array<{ stop(): Promise<void> }> = [];
  return {
    async track<T extends { stop(): Promise<void> }>(server: Promise<T>): Promise<T> {
      const s = await server;
      servers.push(s);
      return s;
    },
    stopAll: () => Promise.all(servers.splice(0).map((s) => s.stop())),
  };
}
