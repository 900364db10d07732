/** `mailops search QUERY`: the query language, in one folder or all of them. */
import { parseQuery } from '../../core/query/index.js';
import { listPage, searchAllFolders } from '../../core/messages.js';
import type { CliContext } from '../context.js';
import { withSession } from '../session.js';
import { cachedFolderPaths, printMessagePage } from '../message-list.js';
import { printJson } from '../output.js';
import type { Options } from './search.spec.js';

export async function run(ctx: CliContext, args: unknown[], options: Options): Promise<number> {
  const text = (args[0] as string[]).join(' ');
  const query = parseQuery(text);
  return withSession(ctx, async (session) => {
    const account = session.resolveAccount(options.account);
    const pageRequest = { limit: options.limit, page: options.page };
    if (options.offline) {
      const [offline, { noteCache }] = await Promise.all([import('../../core/offline.js'), import('../offline.js')]);
      const folder = options.allFolders ? null : await session.folderResolver(account.config, null).resolve(options.folder);
      if (options.explain) {
        const native = offline.explainOffline(session.db, query, folder?.id ?? null);
        if (ctx.output === 'json') printJson(ctx, { query: text, provider: 'cache', folder: folder?.path ?? '(every folder)', native });
        else ctx.out(native + '\n');
        return 0;
      }
      const { result, cache } = offline.listOffline(session.db, account.config.name, folder?.id ?? null, query, pageRequest);
      await printMessagePage(ctx, result, { query: text, folder: folder?.path ?? null, ...noteCache(ctx, cache) }, { showFolder: folder === null, folderPaths: cachedFolderPaths(session, account.config.name) });
      return 0;
    }
    const provider = await session.provider(account.config);
    const folder = options.allFolders ? null : await session.folderResolver(account.config, provider).resolve(options.folder);
    if (options.explain) {
      const native = provider.explain ? await provider.explain(query, folder?.id ?? '(every folder)', ctx.signal) : '(this provider has no native query form)';
      if (ctx.output === 'json') printJson(ctx, { query: text, provider: provider.kind, folder: folder?.path ?? '(every folder)', native });
      else ctx.out(native + '\n');
      return 0;
    }
    const page = folder
      ? await listPage(provider, session.backend(account.config).capabilities, folder.id, { query, page: pageRequest }, ctx.signal)
      : await searchAllFolders(provider, query, pageRequest, ctx.signal, (folders) => session.folders.replace(account.config.name, folders));
    await printMessagePage(ctx, page, { query: text, folder: folder?.path ?? null }, { showFolder: folder === null, folderPaths: cachedFolderPaths(session, account.config.name) });
    return 0;
  });
}
