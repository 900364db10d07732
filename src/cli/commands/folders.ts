/** `mailops folders`: full path, role, unread and total counts. */
import type { Folder } from '../../domain/types.js';
import type { CliContext } from '../context.js';
import { withSession } from '../session.js';
import { folderJson, isoDate, printJson, printNdjson, printRows } from '../output.js';
import { sortFolders } from '../../core/folders.js';
import type { Options } from './folders.spec.js';

export async function run(ctx: CliContext, _args: unknown[], options: Options): Promise<number> {
  return withSession(ctx, async (session) => {
    const account = session.resolveAccount(options.account);
    let folders: Folder[];
    let cachedAt: string | null = null;
    if (options.offline) {
      const [{ foldersOffline }, { noteCache }] = await Promise.all([import('../../core/offline.js'), import('../offline.js')]);
      const { result, cache } = foldersOffline(session.db, account.config.name);
      folders = result;
      cachedAt = noteCache(ctx, cache).cache_synced_at;
    } else {
      const provider = await session.provider(account.config);
      folders = sortFolders(await provider.listFolders(ctx.signal));
      session.folders.replace(account.config.name, folders);
    }

    if (ctx.output === 'json') {
      const body: Record<string, unknown> = { folders: folders.map(folderJson) };
      if (options.offline) body.cache_synced_at = isoDate(cachedAt);
      printJson(ctx, body);
    } else if (ctx.output === 'ndjson') {
      for (const f of folders) printNdjson(ctx, folderJson(f));
    } else {
      await printRows(
        ctx,
        [{ header: 'FOLDER', keep: true }, { header: 'ROLE' }, { header: 'UNREAD' }, { header: 'TOTAL' }],
        folders.map((f) => [f.path, f.role ?? '', count(f.unreadCount), count(f.totalCount)]),
      );
    }
    return 0;
  });
}

function count(n: number | null): string {
  return n === null ? '' : String(n);
}
