/** `mailops move ID... --to FOLDER | --trash | --expunge --yes`, or `--query`. */
import { deleteForever, folderWithRole, moveMessages } from '../../core/messages.js';
import { MailopsError } from '../../domain/errors.js';
import type { CliContext } from '../context.js';
import { withSession } from '../session.js';
import { printJson } from '../output.js';
import { selectMessages } from '../select.js';
import { confirm } from '../prompt.js';
import type { Options } from './move.spec.js';

export async function run(ctx: CliContext, args: unknown[], options: Options): Promise<number> {
  const targets = [options.to !== undefined, options.trash === true, options.expunge === true].filter(Boolean).length;
  if (targets !== 1) {
    throw new MailopsError('USAGE', targets === 0 ? 'say where to move' : 'choose one of --to, --trash and --expunge', {
      hint: 'pass --to FOLDER, --trash, or --expunge --yes',
    });
  }
  const ids = args[0] as string[];
  return withSession(ctx, async (session) => {
    const account = session.resolveAccount(options.account);
    const provider = await session.provider(account.config);
    const refs = await selectMessages(provider, { ids, query: options.query, folder: options.folder }, ctx.signal);

    let action: string;
    let to: string | null;
    let processed = 0;
    if (options.expunge) {
      action = 'expunge';
      to = null;
      if (!options.yes) {
        const sure = await confirm(ctx, `Delete ${refs.length} message(s) for good?`, '--yes');
        if (!sure) throw new MailopsError('INTERRUPTED', 'nothing deleted');
      }
      if (refs.length) processed = await deleteForever(provider, refs, ctx.signal);
    } else {
      action = options.trash ? 'trash' : 'move';
      to = options.trash ? (await folderWithRole(provider, 'trash', ctx.signal)).path : options.to!;
      if (refs.length) processed = await moveMessages(provider, refs, to, ctx.signal);
    }

    if (ctx.isMachineOutput) printJson(ctx, { action, processed, total: refs.length, to });
    else ctx.note(`${action === 'expunge' ? 'deleted' : `moved to ${to}`}: ${processed} of ${refs.length} message${refs.length === 1 ? '' : 's'}`);
    return processed < refs.length ? 1 : 0;
  });
}
