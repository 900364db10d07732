// The round-trip probe over the provider contract, with stand-in providers: where it lands
// (a junk folder), its Authentication-Results, the clean-up, and a probe that never arrives.
import { describe, expect, it } from 'vitest';
import type { MailProvider } from '../../src/domain/provider.js';
import type { Envelope, Folder, MessageRef, OutgoingMessage } from '../../src/domain/types.js';
import { headerValues, runProbe } from '../../src/diagnose/probe.js';

const folder = (path: string, role: Folder['role']): Folder => ({ id: path, path, name: path, delimiter: '/', role, unreadCount: 0, totalCount: 0, selectable: true });

/** A mailbox that files every message it receives into `landIn`, adding `headers` on top. */
function mailbox(landIn: string | null, headers: string[] = []) {
  const stored = new Map<string, { ref: MessageRef; raw: Buffer; folder: string }>();
  const deleted: string[] = [];
  const provider = {
    kind: 'imap',
    async listFolders() {
      return [folder('INBOX', 'inbox'), folder('Spam', 'junk'), folder('Sent', 'sent')];
    },
    async send(message: OutgoingMessage) {
      if (landIn) {
        const raw = Buffer.concat([Buffer.from(headers.map((h) => `${h}\r\n`).join('')), message.raw]);
        stored.set(message.messageId, { ref: { id: `${landIn}:1`, folder: landIn }, raw, folder: landIn });
      }
      return { messageId: message.messageId, accepted: message.envelope.to, rejected: [], providerSavedCopy: false };
    },
    async list(path: string, options: { query: { kind: string; value?: string } | null }) {
      const hit = [...stored.entries()].find(([id, m]) => m.folder === path && options.query?.value === id);
      const items = hit ? [{ ref: hit[1].ref } as Envelope] : [];
      return { items, total: items.length, page: 1, pageSize: 5, hasNext: false };
    },
    async fetchMessage(ref: MessageRef) {
      const m = [...stored.values()].find((s) => s.ref.id === ref.id)!;
      return { raw: m.raw, envelope: { ref } as Envelope };
    },
    async deleteForever(refs: MessageRef[]) {
      deleted.push(...refs.map((r) => r.id));
      return { processed: refs.length, missing: [] };
    },
  };
  return { provider: provider as unknown as MailProvider, deleted };
}

const signal = new AbortController().signal;

describe('runProbe', () => {
  it('finds it in the junk folder, reads its Authentication-Results and deletes it', async () => {
    const box = mailbox('Spam', ['Authentication-Results: mx.example.com;', ' dkim=pass header.d=example.com;', ' spf=pass smtp.mailfrom=example.com']);
    const result = await runProbe({ sender: box.provider, receiver: box.provider, from: 'ann@example.com', to: 'ann@example.com', waitMs: 1000, pollMs: 10, signal });
    expect(result).toMatchObject({ delivered: true, folder: 'Spam', landed_in: 'junk', cleaned_up: true });
    expect(result.authentication_results).toEqual(['mx.example.com; dkim=pass header.d=example.com; spf=pass smtp.mailfrom=example.com']);
    expect(result.message_id).toMatch(/^<mailops-probe\.[\w-]+@example\.com>$/);
    expect(box.deleted).toEqual(['Spam:1']);
  });

  it('reports a probe that never arrives', async () => {
    const box = mailbox(null);
    const result = await runProbe({ sender: box.provider, receiver: box.provider, from: 'ann@example.com', to: 'ann@example.com', waitMs: 50, pollMs: 10, signal });
    expect(result).toMatchObject({ delivered: false, delivery_ms: null, folder: null, landed_in: null, authentication_results: null, cleaned_up: false });
  });

  it('headerValues unfolds and finds every instance, case-insensitively', () => {
    const raw = Buffer.from('Received: x\r\nauthentication-results: a;\r\n\tspf=none\r\nAuthentication-Results: b\r\n\r\nAuthentication-Results: body\r\n');
    expect(headerValues(raw, 'Authentication-Results')).toEqual(['a; spf=none', 'b']);
    expect(headerValues(raw, 'DKIM-Signature')).toBeNull();
  });
});
