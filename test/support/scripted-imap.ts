// A stand-in for the sync client (src/providers/imap/wire/client.ts) that answers each command
// from a script, for unit tests of the IMAP change feed without a server.
import type { WireClient } from '../../src/providers/imap/wire/client.js';
import { ResponseReader, type Untagged } from '../../src/net/imap/response.js';

export function untagged(lines: string[]): Untagged[] {
  return new ResponseReader().push(Buffer.from(lines.map((l) => `${l}\r\n`).join(''))) as Untagged[];
}

/**
 * Answers each command from `script` (the first entry its line starts with), records what was
 * sent; a 'NO' entry is thrown in imapflow's shape. CONDSTORE and QRESYNC are enabled: delete
 * from `client.enabled` to take them away.
 */
export function scriptedClient(
  script: Array<[string, string[] | 'NO']>,
  capabilities = ['IMAP4REV1', 'LIST-EXTENDED', 'LIST-STATUS', 'CONDSTORE', 'QRESYNC'],
): { client: WireClient; sent: string[] } {
  const sent: string[] = [];
  const answer = (line: string) => {
    sent.push(line);
    const entry = script.find(([start]) => line.startsWith(start));
    if (!entry) throw new Error(`unexpected command: ${line}`);
    if (entry[1] === 'NO') throw Object.assign(new Error('Command failed'), { responseStatus: 'NO', responseText: 'Permission denied' });
    return untagged(entry[1]);
  };
  const client = {
    capabilities: new Set(capabilities),
    enabled: new Set(['CONDSTORE', 'QRESYNC']),
    // As the real client's: on, or offered (ENABLE may still be in flight).
    get condstore() {
      return this.enabled.has('CONDSTORE') || this.capabilities.has('CONDSTORE');
    },
    async command(line: string, onUntagged: (r: Untagged) => void = () => {}) {
      const answers = answer(line);
      // Answered after the caller's next step, as a server's answer comes after what was sent with it.
      await null;
      for (const r of answers) onUntagged(r);
      return { type: 'tagged', tag: 'W1', status: 'OK', code: null, text: 'done' };
    },
    // Sent (answered) when called, read later, as the real client's; take() adds an answer
    // another command's handler passed on, before the stream ends.
    stream(line: string) {
      // A refusal reaches the reader, as the real client's rejected command does.
      let answers: Untagged[] | Error;
      try {
        answers = answer(line);
      } catch (error) {
        answers = error as Error;
      }
      const queue = answers instanceof Error ? [] : [...answers];
      return Object.assign(
        (async function* () {
          if (answers instanceof Error) throw answers;
          // Ends after the commands sent before it have answered, as a server's would.
          await new Promise((resolve) => setImmediate(resolve));
          while (queue.length) yield queue.shift()!;
        })(),
        { abandon: async () => undefined, take: (response: Untagged) => void queue.push(response) },
      );
    },
  };
  return { client: client as unknown as WireClient, sent };
}
