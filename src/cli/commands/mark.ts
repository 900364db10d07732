/** `mailops mark ID... --read|--unread|--flagged|--unflagged`, or `--query`. */
import { MailopsError } from '../../domain/errors.js';
import type { FlagChange } from '../../domain/types.js';
import type { CliContext } from '../context.js';
import { withSession } from '../session.js';
import { changeMessages } from '../../core/messages.js';
import { requireAccess } from '../../providers/access.js';
import { printChangeReport, selectMessages } from '../select.js';
import type { Options } from './mark.spec.js';

export function flagChange(options: Options): { change: FlagChange; action: string } {
  if (options.read && options.unread) throw new MailopsError('USAGE', '--read and --unread contradict each other');
  if (options.flagged && options.unflagged) throw new MailopsError('USAGE', '--flagged and --unflagged contradict each other');
  const change: FlagChange = {};
  const action: string[] = [];
  if (options.read) ((change.seen = true), action.push('read'));
  if (options.unread) ((change.seen = false), action.push('unread'));
  if (options.flagged) ((change.flagged = true), action.push('flagged'));
  if (options.unflagged) ((change.flagged = false), action.push('unflagged'));
  if (action.length === 0) {
    throw new MailopsError('USAGE', 'say what to mark', { hint: 'pass --read, --unread, --flagged or --unflagged' });
  }
  return { change, action: action.join(',') };
}

export async function run(ctx: CliContext, args: unknown[], options: Options): Promise<number> {
  const { change, action } = flagChange(options);
  const ids = args[0] as string[];
  return withSession(ctx, async (session) => {
    const account = session.resolveAccount(options.account);
    requireAccess(account.config, 'change', 'mark messages');
    const provider = await session.provider(account.config);
    const folder = await session.folderResolver(account.config, provider).resolve(options.folder);
    const selection = await selectMessages(provider, session.backend(account.config).ids, { ids, query: options.query, folder: folder.id }, ctx.signal);
    const report = await changeMessages(selection, (refs) => provider.setFlags(refs, change, ctx.signal));
    return printChangeReport(ctx, report, { action }, `marked ${action}`);
  });
}
