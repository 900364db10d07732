/**
 * `mailops read ID`: headers, text body and attachments of one message.
 * Peeks by default (the message stays unread) unless --mark-read.
 */
import { resolveIds } from '../../core/messages.js';
import { MailopsError } from '../../domain/errors.js';
import type { FetchedMessage } from '../../domain/provider.js';
import type { CliContext } from '../context.js';
import { withSession } from '../session.js';
import { cachedFolderPaths } from '../message-list.js';
import { envelopeJson, printJson } from '../output.js';
import type { Options } from './read.spec.js';

export async function run(ctx: CliContext, args: unknown[], options: Options): Promise<number> {
  const id = args[0] as string;
  if (options.raw && (options.html || options.headers)) {
    throw new MailopsError('USAGE', '--raw prints the message as stored; it cannot be combined with --html or --headers');
  }
  if (options.offline && options.markRead) {
    throw new MailopsError('USAGE', '--mark-read changes the message on the server; it cannot be combined with --offline');
  }
  return withSession(ctx, async (session) => {
    const account = session.resolveAccount(options.account);
    let fetched: FetchedMessage;
    let cacheField: { cache_synced_at?: string | null } = {};
    if (options.offline) {
      const [{ readOffline }, { noteCache }] = await Promise.all([import('../../core/offline.js'), import('../offline.js')]);
      const folder = await session.folderResolver(account.config, null).resolve(options.folder);
      const { result, cache } = readOffline(session.db, account.config.name, id, folder.id, session.backend(account.config).ids);
      fetched = result;
      cacheField = noteCache(ctx, cache);
    } else {
      const provider = await session.provider(account.config);
      const folder = await session.folderResolver(account.config, provider).resolve(options.folder);
      const ref = resolveIds(session.backend(account.config).ids, [id], folder.id)[0]!;
      fetched = await provider.fetchMessage(ref, { peek: !options.markRead }, ctx.signal);
    }
    const { raw, envelope } = fetched;

    if (options.raw && !ctx.isMachineOutput) {
      // Byte-exact: written as a Buffer, no decoding, no newline added.
      ctx.io.stdout.write(raw);
      return 0;
    }

    const { parseMessage } = await import('../../mime/parse.js');
    const message = await parseMessage(raw);

    let saved: Array<{ filename: string; path: string; size: number }> = [];
    if (options.saveAttachments !== undefined) {
      const { saveAttachments } = await import('../../mime/attachments.js');
      saved = await saveAttachments(message.attachments, options.saveAttachments, { force: options.force === true });
      if (!ctx.isMachineOutput) for (const s of saved) ctx.note(`saved ${s.path} (${s.size} bytes)`);
    }

    if (ctx.isMachineOutput) {
      printJson(ctx, {
        ...envelopeJson(envelope, cachedFolderPaths(session, account.config.name).get(envelope.ref.folder)),
        bcc: message.bcc,
        reply_to: message.replyTo,
        in_reply_to: message.inReplyTo,
        references: message.references,
        body_text: message.bodyText,
        body_html: message.bodyHtml,
        attachments: message.attachments.map((a) => ({ filename: a.filename, content_type: a.contentType, size: a.size })),
        ...(options.headers ? { headers: message.headers.map((h) => ({ name: h.name, value: h.value })) } : {}),
        ...(options.raw ? { raw: raw.toString('utf8') } : {}),
        ...(saved.length ? { saved: saved.map((s) => ({ filename: s.filename, path: s.path, size: s.size })) } : {}),
        ...cacheField,
      });
      return 0;
    }

    const { renderMessage } = await import('../../mime/render.js');
    ctx.out(renderMessage(message, { allHeaders: options.headers === true, html: options.html === true }));
    return 0;
  });
}
