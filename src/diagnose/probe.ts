/**
 * The round trip: a uniquely tagged message sent over the account's
 * submission server, watched for (by Message-ID) in the receiving mailbox's
 * INBOX and junk folder, timed, its Authentication-Results read, then
 * deleted. Works through the provider contract, so any backend can be probed.
 */
import { randomBytes } from 'node:crypto';
import { MailopsError } from '../domain/errors.js';
import type { MailProvider } from '../domain/provider.js';
import type { Folder, MessageRef } from '../domain/types.js';

export interface ProbeRequest {
  /** Sends (its SMTP). */
  sender: MailProvider;
  /** Receives (its mailbox is watched); the sender itself for a probe to the account. */
  receiver: MailProvider;
  from: string;
  to: string;
  waitMs: number;
  pollMs?: number;
  signal: AbortSignal;
  /** Progress for people (stderr), e.g. "waiting for the probe...". */
  note?: (message: string) => void;
}

export interface ProbeResult {
  message_id: string;
  from: string;
  to: string;
  sent_at: string;
  delivered: boolean;
  /** From the start of the submission to the moment it was seen in the mailbox. */
  delivery_ms: number | null;
  folder: string | null;
  /** "inbox", "junk", or null when it never arrived. */
  landed_in: 'inbox' | 'junk' | null;
  /** Authentication-Results headers as they came (unfolded); null when the receiving server added none. */
  authentication_results: string[] | null;
  /** Whether the probe was deleted again (from the receiving mailbox and any copy the sender's provider kept). */
  cleaned_up: boolean;
}

export async function runProbe(request: ProbeRequest): Promise<ProbeResult> {
  const { sender, receiver, signal } = request;
  const tag = randomBytes(9).toString('base64url');
  const domain = request.from.slice(request.from.lastIndexOf('@') + 1) || 'mailops.invalid';
  const messageId = `<mailops-probe.${tag}@${domain}>`;
  const folders = await watchedFolders(receiver, signal);

  const sentAt = new Date();
  const raw = Buffer.from(
    [
      `From: <${request.from}>`,
      `To: <${request.to}>`,
      `Subject: mailops delivery probe ${tag}`,
      `Date: ${sentAt.toUTCString().replace('GMT', '+0000')}`,
      `Message-ID: ${messageId}`,
      `X-Mailops-Probe: ${tag}`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'This message tests delivery for mailops status --probe and is deleted as soon as it arrives.',
      '',
    ].join('\r\n'),
  );
  const started = Date.now();
  const receipt = await sender.send({ raw, envelope: { from: request.from, to: [request.to] }, messageId }, signal);
  request.note?.(`probe ${messageId} accepted by the submission server; waiting up to ${Math.round(request.waitMs / 1000)} s for it to arrive`);

  const found = await waitFor(receiver, messageId, folders, request, started);
  const result: ProbeResult = {
    message_id: messageId,
    from: request.from,
    to: request.to,
    sent_at: sentAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    delivered: found !== null,
    delivery_ms: found ? found.at - started : null,
    folder: found?.folder.path ?? null,
    landed_in: found ? (found.folder.role === 'junk' ? 'junk' : 'inbox') : null,
    authentication_results: null,
    cleaned_up: false,
  };
  if (found) {
    const fetched = await receiver.fetchMessage(found.ref, { peek: true }, signal);
    result.authentication_results = headerValues(fetched.raw, 'authentication-results');
    result.cleaned_up = await remove(receiver, [found.ref], signal);
  }
  if (receipt.providerSavedCopy) {
    // The sender's provider kept a copy in Sent (Gmail, Graph): that one goes too.
    const sent = (await sender.listFolders(signal)).find((f) => f.role === 'sent');
    const copy = sent ? (await search(sender, sent, messageId, signal))[0] : undefined;
    if (copy && !(await remove(sender, [copy], signal))) result.cleaned_up = false;
  }
  return result;
}

/** INBOX first, then the junk folder(s): where a probe can land. */
async function watchedFolders(receiver: MailProvider, signal: AbortSignal): Promise<Folder[]> {
  const all = await receiver.listFolders(signal);
  const inbox = all.find((f) => f.role === 'inbox' || f.path.toUpperCase() === 'INBOX') ?? { id: 'INBOX', path: 'INBOX', name: 'INBOX', delimiter: '/', role: 'inbox' as const, unreadCount: null, totalCount: null, selectable: true };
  return [{ ...inbox, role: 'inbox' }, ...all.filter((f) => f.role === 'junk' && f.selectable)];
}

async function search(provider: MailProvider, folder: Folder, messageId: string, signal: AbortSignal): Promise<MessageRef[]> {
  const page = await provider.list(folder.path, { query: { kind: 'message_id', value: messageId }, page: { limit: 5, page: 1 } }, signal);
  return page.items.map((e) => e.ref);
}

async function waitFor(receiver: MailProvider, messageId: string, folders: Folder[], request: ProbeRequest, started: number) {
  const poll = request.pollMs ?? 500;
  for (;;) {
    for (const folder of folders) {
      const refs = await search(receiver, folder, messageId, request.signal);
      if (refs[0]) return { ref: refs[0], folder, at: Date.now() };
    }
    if (Date.now() - started >= request.waitMs) return null;
    if (request.signal.aborted) throw new MailopsError('INTERRUPTED', 'interrupted');
    await new Promise((resolve) => setTimeout(resolve, poll));
  }
}

async function remove(provider: MailProvider, refs: MessageRef[], signal: AbortSignal): Promise<boolean> {
  try {
    // A backend that cannot delete for good keeps the probe message: reported, not hidden.
    if (!provider.deleteForever) return false;
    return (await provider.deleteForever(refs, signal)).processed > 0;
  } catch {
    return false;
  }
}

/** Every value of a header field, unfolded, from the header block of a raw message. */
export function headerValues(raw: Buffer, name: string): string[] | null {
  const text = raw.toString('utf8');
  const end = text.search(/\r?\n\r?\n/);
  const header = (end >= 0 ? text.slice(0, end) : text).replace(/\r?\n[ \t]+/g, ' ');
  const wanted = name.toLowerCase();
  const values = header
    .split(/\r?\n/)
    .filter((line) => line.slice(0, line.indexOf(':')).trim().toLowerCase() === wanted)
    .map((line) => line.slice(line.indexOf(':') + 1).trim());
  return values.length ? values : null;
}
