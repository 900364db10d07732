/** `mailops send`: compose (or take a prepared message), send over SMTP, keep a copy in Sent. */
import { readFile } from 'node:fs/promises';
import { composeMessage, prepareRawMessage, splitAddresses, type ComposedMessage } from '../../core/compose.js';
import { requireAccess } from '../../providers/access.js';
import { MailopsError } from '../../domain/errors.js';
import type { CliContext } from '../context.js';
import { withSession } from '../session.js';
import { printJson } from '../output.js';
import type { Options } from './send.spec.js';

async function readStdin(ctx: CliContext): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.io.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}

async function readInputFile(path: string, flag: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new MailopsError('INVALID_VALUE', `cannot read ${flag} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** The text body: --body, --body-file, or stdin when it is not a terminal and nothing else gives a body. */
async function textBody(ctx: CliContext, options: Options): Promise<string | undefined> {
  if (options.body !== undefined && options.bodyFile !== undefined) throw new MailopsError('USAGE', 'give --body or --body-file, not both');
  if (options.body !== undefined) return options.body;
  if (options.bodyFile !== undefined) return (await readInputFile(options.bodyFile, '--body-file')).toString('utf8');
  if (options.html !== undefined || options.htmlFile !== undefined) return undefined;
  if (ctx.io.stdin.isTTY) {
    throw new MailopsError('MISSING_INPUT', 'no message body', { hint: 'pass --body, --body-file, --html, or pipe the body on stdin' });
  }
  return (await readStdin(ctx)).toString('utf8');
}

async function buildMessage(ctx: CliContext, options: Options, defaultFrom: string): Promise<ComposedMessage> {
  const recipients = { to: splitAddresses(options.to), cc: splitAddresses(options.cc), bcc: splitAddresses(options.bcc) };
  if (options.raw !== undefined) {
    const conflicting = ['subject', 'body', 'bodyFile', 'html', 'htmlFile', 'attach', 'header', 'replyTo'].filter((k) => options[k as keyof Options] !== undefined);
    if (conflicting.length) throw new MailopsError('USAGE', `--raw sends a prepared message as it is; it cannot be combined with --${conflicting[0]!.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}`);
    const raw = options.raw === '-' ? await readStdin(ctx) : await readInputFile(options.raw, '--raw');
    return prepareRawMessage(raw, { from: options.from, recipients: [...recipients.to, ...recipients.cc, ...recipients.bcc] });
  }
  if (options.html !== undefined && options.htmlFile !== undefined) throw new MailopsError('USAGE', 'give --html or --html-file, not both');
  const html = options.html ?? (options.htmlFile !== undefined ? (await readInputFile(options.htmlFile, '--html-file')).toString('utf8') : undefined);
  return composeMessage({
    from: options.from ?? defaultFrom,
    ...recipients,
    subject: options.subject,
    text: await textBody(ctx, options),
    html,
    attachments: options.attach ?? [],
    replyTo: options.replyTo,
    headers: options.header ?? [],
  });
}

export async function run(ctx: CliContext, _args: unknown[], options: Options): Promise<number> {
  return withSession(ctx, async (session) => {
    const account = session.resolveAccount(options.account);
    const message = await buildMessage(ctx, options, account.config.email);

    if (options.dryRun) {
      if (ctx.isMachineOutput) {
        printJson(ctx, {
          sent: false,
          dry_run: true,
          message_id: message.outgoing.messageId,
          envelope: message.outgoing.envelope,
          raw: message.copy.toString('utf8'),
        });
      } else {
        ctx.io.stdout.write(message.copy);
        ctx.note(`dry run: nothing sent (envelope from ${message.outgoing.envelope.from} to ${message.outgoing.envelope.to.join(', ')})`);
      }
      return 0;
    }

    requireAccess(account.config, 'send', 'send mail');
    const provider = await session.provider(account.config);
    const receipt = await provider.send(message.outgoing, ctx.signal);

    let savedTo: string | null = null;
    if (options.save && !receipt.providerSavedCopy) {
      // The message is sent: failing to keep a copy is worth a warning, not a failure
      // (a script that retries on failure would send it twice).
      try {
        if (!provider.append) throw new MailopsError('UNSUPPORTED', 'this provider cannot store a copy');
        const sent = await session.folderResolver(account.config, provider).resolve('@sent');
        await provider.append(sent.id, message.copy, { seen: true }, ctx.signal);
        savedTo = sent.path;
      } catch (error) {
        ctx.warn(`sent, but no copy was saved in Sent: ${(error as Error).message}`);
      }
    } else if (receipt.providerSavedCopy) {
      // The provider's own Sent folder, by the path `folders` prints (Gmail: Sent, Graph: Sent Items).
      savedTo = await session
        .folderResolver(account.config, provider)
        .resolve('@sent')
        .then((sent) => sent.path)
        .catch(() => 'Sent');
    }

    if (ctx.isMachineOutput) {
      printJson(ctx, { sent: true, message_id: receipt.messageId, accepted: receipt.accepted, rejected: receipt.rejected, saved_to: savedTo });
    } else {
      ctx.out(receipt.messageId + '\n');
      ctx.note(`sent to ${receipt.accepted.length} recipient${receipt.accepted.length === 1 ? '' : 's'}${savedTo ? `, copy in ${savedTo}` : ''}`);
      if (receipt.rejected.length) ctx.warn(`rejected: ${receipt.rejected.join(', ')}`);
    }
    return receipt.rejected.length ? 1 : 0;
  });
}
