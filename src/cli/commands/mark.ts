/** `mailops mark ID... --read|--unread|--flagged|--unflagged`, or `--query`. */
import { MailopsError } from '../../domain/errors.js';
import type { FlagChange } from '../../domain/types.js';
import type { CliContext } from '../context.js';
import { withSession } from '../session.js';
import { printJson } from '../output.js';
import { selectMessages } from '../select.js';
import type { Options } from './mark.spec.js';

export function flagChange(options: Options): { change: FlagChange; action: string } {
  if (options.read && options.unread) throw new MailopsError('USAGE', '--read and --unread contradict each other');
  if (options.flagged && options.unflagged) throw new MailopsError('USAGE', '--flagged and --unflagged contradict each other');
  const change: FlagChange = { add: [], remove: [] };
  const action: string[] = [];
  if (options.read) (change.add.push('\\Seen'), action.push('read'));
  if (options.unread) (change.remove.push('\\Seen'), action.push('unread'));
  if (options.flagged) (change.add.push('\\Flagged'), action.push('flagged'));
  if (options.unflagged) (change.remove.push('\\Flagged'), action.push('unflagged'));
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
    const provider = await session.provider(account.config);
    const refs = await selectMessages(provider, { ids, query: options.query, folder: options.folder }, ctx.signal);
    const processed = refs.length ? await provider.setFlags(refs, change, ctx.signal) : 0;
    if (ctx.isMachineOutput) printJson(ctx, { action, processed, total: refs.length });
    else ctx.note(`marked ${processed} of ${refs.length} message${refs.length === 1 ? '' : 's'} ${action}`);
    return processed < refs.length ? 1 : 0;
  });
}
