/** `mailops search QUERY`: the query language, in one folder or all of them. */
import { parseQuery } from '../../core/query/index.js';
import { searchAllFolders } from '../../core/messages.js';
import type { CliContext } from '../context.js';
import { withSession } from '../session.js';
import { printMessagePage } from '../message-list.js';
import { printJson } from '../output.js';
import type { Options } from './search.spec.js';

export async function run(ctx: CliContext, args: unknown[], options: Options): Promise<number> {
  const text = (args[0] as string[]).join(' ');
  const query = parseQuery(text);
  return withSession(ctx, async (session) => {
    const account = session.resolveAccount(options.account);
    const pageRequest = { limit: options.limit, page: options.page };
    const scope = options.allFolders ? null : options.folder;
    if (options.offline) {
      const [offline, { noteCache }] = await Promise.all([import('../../core/offline.js'), import('../offline.js')]);
      if (options.explain) {
        const native = offline.explainOffline(session.db, query, scope);
        if (ctx.output === 'json') printJson(ctx, { query: text, provider: 'cache', folder: scope ?? '(every folder)', native });
        else ctx.out(native + '\n');
        return 0;
      }
      const { result, cache } = offline.listOffline(session.db, account.config.name, scope, query, pageRequest);
      await printMessagePage(ctx, result, { query: text, folder: scope, ...noteCache(ctx, cache) }, { showFolder: scope === null });
      return 0;
    }
    const provider = await session.provider(account.config);
    if (options.explain) {
      const folder = options.allFolders ? '(every folder)' : options.folder;
      const native = provider.explain ? provider.explain(query, folder) : '(this provider has no native query form)';
      if (ctx.output === 'json') printJson(ctx, { query: text, provider: provider.kind, folder, native });
      else ctx.out(native + '\n');
      return 0;
    }
    const page = options.allFolders
      ? await searchAllFolders(provider, query, pageRequest, ctx.signal)
      : await provider.list(options.folder, { query, page: pageRequest }, ctx.signal);
    await printMessagePage(ctx, page, { query: text, folder: options.allFolders ? null : options.folder }, { showFolder: options.allFolders === true });
    return 0;
  });
}
