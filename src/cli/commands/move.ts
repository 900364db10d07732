/** `mailops move ID... --to FOLDER | --trash | --expunge --yes`, or `--query`. */
import { changeMessages, deleteForever, moveMessages, type ChangeReport } from '../../core/messages.js';
import { requireAccess } from '../../providers/access.js';
import { MailopsError } from '../../domain/errors.js';
import type { CliContext } from '../context.js';
import { withSession } from '../session.js';
import { printChangeReport, selectMessages } from '../select.js';
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
    // Refused before any lookup: a grant that cannot do it (connect --read-only, or no --scope-full to expunge).
    requireAccess(account.config, options.expunge ? 'delete' : 'change', options.expunge ? 'delete messages for good' : 'move messages');
    const provider = await session.provider(account.config);
    const folders = session.folderResolver(account.config, provider);
    const folder = await folders.resolve(options.folder);
    const selection = await selectMessages(provider, session.backend(account.config).ids, { ids, query: options.query, folder: folder.id }, ctx.signal);
    const count = selection.refs.length + selection.unknown.length;

    let action: string;
    let to: string | null;
    let report: ChangeReport;
    if (options.expunge) {
      action = 'expunge';
      to = null;
      if (!options.yes) {
        const sure = await confirm(ctx, `Delete ${count} message(s) for good?`, '--yes');
        if (!sure) throw new MailopsError('INTERRUPTED', 'nothing deleted');
      }
      report = await changeMessages(selection, (refs) => deleteForever(provider, refs, ctx.signal));
    } else {
      action = options.trash ? 'trash' : 'move';
      const target = await folders.resolve(options.trash ? '@trash' : options.to!);
      to = target.path;
      report = await changeMessages(selection, (refs) => moveMessages(provider, refs, target.id, ctx.signal));
    }
    return printChangeReport(ctx, report, { action, to }, `${action === 'expunge' ? 'deleted' : `moved to ${to}`}`);
  });
}
