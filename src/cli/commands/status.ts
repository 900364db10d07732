/** `mailops status [NAME...]`: state, last sync and error, and a live check per account. */
import { checkAccount, storedStatus, worstExitCode, type AccountStatus } from '../../core/status.js';
import type { CliContext } from '../context.js';
import { withSession } from '../session.js';
import { statusJson } from '../../core/account-json.js';
import { isoDate, printJson, printNdjson, printRows } from '../output.js';
import type { Options } from './status.spec.js';

export async function run(ctx: CliContext, args: unknown[], options: Options): Promise<number> {
  // The support engineer's and the sysadmin's views live in their own modules.
  if (options.nagios) return (await import('./status-nagios.js')).run(ctx, args, options);
  if (options.diagnose || options.probe || options.probeTo) return (await import('./status-diagnose.js')).run(ctx, args, options);
  const names = [...(args[0] as string[]), ...(options.account ? [options.account] : [])];
  return withSession(ctx, async (session) => {
    const accounts = session.selectAccounts(names);
    const statuses: AccountStatus[] = [];
    for (const account of accounts) {
      statuses.push(options.offline ? storedStatus(account) : await checkAccount(session, account, ctx.signal));
    }

    if (ctx.output === 'json') printJson(ctx, { accounts: statuses.map(statusJson) });
    else if (ctx.output === 'ndjson') for (const s of statuses) printNdjson(ctx, statusJson(s));
    else {
      if (statuses.length === 0) ctx.note('no accounts: add one with mailops connect');
      await printRows(
        ctx,
        [{ header: 'NAME' }, { header: 'PROVIDER' }, { header: 'EMAIL' }, { header: 'STATE' }, { header: 'LAST SYNC' }, { header: 'LATENCY' }, { header: 'LAST ERROR', maxWidth: 60 }],
        statuses.map((s) => [
          s.account.config.name,
          s.account.config.provider,
          s.account.config.email,
          s.state,
          isoDate(s.account.state.lastSyncAt) ?? '',
          s.latencyMs === null ? '' : `${s.latencyMs}ms`,
          s.lastError ?? '',
        ]),
      );
    }
    return worstExitCode(statuses);
  });
}
