/**
 * Building the message `send` hands to SMTP: from flags through nodemailer's
 * MailComposer, or a prepared RFC 5322 message sent as it is. Two builds share
 * the Message-ID and Date: the one sent (no Bcc header) and the copy for Sent
 * (Bcc kept, so the sender can see who was blind-copied).
 */
import { accessSync, constants } from 'node:fs';
import { basename } from 'node:path';
import { MailopsError } from '../domain/errors.js';
import type { OutgoingMessage } from '../domain/types.js';

export interface ComposeInput {
  from: string;
  to: string[];
  cc: string[];
  bcc: string[];
  subject: string | undefined;
  text: string | undefined;
  html: string | undefined;
  attachments: string[];
  replyTo: string | undefined;
  headers: string[];
}

export interface ComposedMessage {
  /** What goes over SMTP. */
  outgoing: OutgoingMessage;
  /** The copy kept in Sent (and shown by --dry-run): with Bcc. */
  copy: Buffer;
}

/** Splits repeatable, comma-separated address flags; quoted names with commas stay whole. */
export function splitAddresses(values: string[] | undefined): string[] {
  const out: string[] = [];
  for (const value of values ?? []) {
    let current = '';
    let quoted = false;
    let angle = false;
    for (const ch of value) {
      if (ch === '"') quoted = !quoted;
      if (ch === '<') angle = true;
      if (ch === '>') angle = false;
      if (ch === ',' && !quoted && !angle) {
        if (current.trim()) out.push(current.trim());
        current = '';
      } else current += ch;
    }
    if (current.trim()) out.push(current.trim());
  }
  return out;
}

/** `Name: value` into a header pair; a malformed one is a usage error. */
export function parseHeaderFlag(line: string): { key: string; value: string } {
  const match = /^([!-9;-~]+):[ \t]*(.*)$/.exec(line);
  if (!match || /[\r\n]/.test(line)) {
    throw new MailopsError('INVALID_VALUE', `not a header: ${JSON.stringify(line)}`, { hint: "use --header 'Name: value'" });
  }
  return { key: match[1]!, value: match[2]! };
}

function checkAttachment(path: string): string {
  try {
    accessSync(path, constants.R_OK);
  } catch {
    throw new MailopsError('INVALID_VALUE', `cannot read attachment ${path}`);
  }
  return path;
}

export async function composeMessage(input: ComposeInput): Promise<ComposedMessage> {
  if (input.to.length + input.cc.length + input.bcc.length === 0) {
    throw new MailopsError('MISSING_INPUT', 'no recipients', { hint: 'pass --to, --cc or --bcc' });
  }
  const { default: MailComposer } = await import('nodemailer/lib/mail-composer');
  const { default: addressparser } = await import('nodemailer/lib/addressparser');
  for (const address of [...input.to, ...input.cc, ...input.bcc, input.from]) {
    const parsed = addressparser(address, { flatten: true });
    if (parsed.length === 0 || parsed.some((a) => !a.address || !/^[^@\s]+@[^@\s]+$/.test(a.address))) {
      throw new MailopsError('INVALID_VALUE', `not an email address: ${JSON.stringify(address)}`);
    }
  }
  const headers = input.headers.map(parseHeaderFlag);
  const domain = input.from.replace(/.*@/, '').replace(/>.*$/, '') || 'mailops.invalid';
  const messageId = `<${crypto.randomUUID()}@${domain}>`;
  const date = new Date();
  const options = {
    from: input.from,
    to: input.to,
    cc: input.cc,
    bcc: input.bcc,
    subject: input.subject ?? '',
    text: input.text,
    html: input.html,
    replyTo: input.replyTo,
    messageId,
    date,
    headers,
    attachments: input.attachments.map((path) => ({ path: checkAttachment(path), filename: basename(path) })),
  };
  const build = async (keepBcc: boolean) => {
    const node = new MailComposer(options).compile();
    node.keepBcc = keepBcc;
    return { raw: await node.build(), envelope: node.getEnvelope() };
  };
  const sent = await build(false);
  const copy = await build(true);
  return {
    outgoing: {
      raw: sent.raw,
      envelope: { from: sent.envelope.from || input.from, to: sent.envelope.to },
      messageId,
    },
    copy: copy.raw,
  };
}

/**
 * A prepared message sent as it is. The SMTP envelope comes from the flags when
 * given, else from its From/To/Cc/Bcc headers.
 */
export async function prepareRawMessage(raw: Buffer, overrides: { from?: string | undefined; recipients: string[] }): Promise<ComposedMessage> {
  if (raw.length === 0) throw new MailopsError('INVALID_VALUE', 'the raw message is empty');
  const { simpleParser } = await import('../mime/mailparser.js');
  const parsed = await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true });
  const list = (value: unknown): string[] => {
    const objects = Array.isArray(value) ? value : value ? [value] : [];
    return objects.flatMap((o: { value: Array<{ address?: string; group?: Array<{ address?: string }> }> }) =>
      o.value.flatMap((a) => (a.group ? a.group.map((g) => g.address ?? '') : [a.address ?? ''])),
    ).filter(Boolean);
  };
  const from = overrides.from ?? list(parsed.from)[0];
  const to = overrides.recipients.length ? overrides.recipients : [...list(parsed.to), ...list(parsed.cc), ...list(parsed.bcc)];
  if (!from) throw new MailopsError('INVALID_VALUE', 'the raw message has no From header', { hint: 'pass --from' });
  if (to.length === 0) throw new MailopsError('MISSING_INPUT', 'the raw message has no recipients', { hint: 'pass --to' });
  const messageId = parsed.messageId ?? '';
  return { outgoing: { raw, envelope: { from, to }, messageId }, copy: raw };
}
