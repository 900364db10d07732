/** `mailops ls [FOLDER]`: one folder's messages, newest first, a page at a time. */
import { listPage } from '../../core/messages.js';
import { queryFromListFilters } from '../../core/query/index.js';
import type { CliContext } from '../context.js';
import { withSession } from '../session.js';
import { cachedFolderPaths, printMessagePage } from '../message-list.js';
import type { Options } from './ls.spec.js';

export async function run(ctx: CliContext, args: unknown[], options: Options): Promise<number> {
  const folderArg = (args[0] as string | undefined) ?? options.folder ?? 'INBOX';
  // Parse the filters before connecting: a bad date is a usage error, not a network round trip.
  const query = queryFromListFilters({ unread: options.unread, since: options.since, before: options.before, from: options.from });
  return withSession(ctx, async (session) => {
    const account = session.resolveAccount(options.account);
    const pageRequest = { limit: options.limit, page: options.page };
    if (options.offline) {
      const [{ listOffline }, { noteCache }] = await Promise.all([import('../../core/offline.js'), import('../offline.js')]);
      const folder = await session.folderResolver(account.config, null).resolve(folderArg);
      const { result, cache } = listOffline(session.db, account.config.name, folder.id, query, pageRequest);
      await printMessagePage(ctx, result, { folder: folder.path, ...noteCache(ctx, cache) }, { folderPaths: cachedFolderPaths(session, account.config.name) });
      return 0;
    }
    const provider = await session.provider(account.config);
    const folder = await session.folderResolver(account.config, provider).resolve(folderArg);
    const { capabilities } = session.backend(account.config);
    const page = await listPage(provider, capabilities, folder.id, { query, page: pageRequest }, ctx.signal);
    await printMessagePage(ctx, page, { folder: folder.path }, { folderPaths: cachedFolderPaths(session, account.config.name) });
    return 0;
  });
}
