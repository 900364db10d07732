// An IMAP server that misbehaves on purpose, for the hardening tests: it greets, takes any LOGIN,
// answers CAPABILITY, and then answers the command named in `on` with one of the attacks below,
// dripping bytes until the client hangs up (each chunk waits for the socket to drain, so a
// client that stops reading is not fed more).
//
//   endless-line   `* LIST (\HasNoChildren) "/" ` and then name bytes, never a line end
//   huge-literal   a literal announced as {4294967295} whose bytes then drip
//   silence        nothing at all after the greeting's command
//   bye            `* BYE` in the middle of the command, and the connection closed
//   malformed      an answer that breaks IMAP's grammar (unclosed lists and quotes, words where
//                  numbers go), then the command's OK; INBOX is a 3-message folder to SELECT
//   many-folders   100,000 folders in one LIST answer, then OK (a well-formed but huge answer;
//                  STATUS of each is answered, with MESSAGES the folder's number)
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { HOST } from './net.js';

export type Attack = 'endless-line' | 'huge-literal' | 'silence' | 'many-folders' | 'bye' | 'malformed';

export interface HostileImap {
  port: number;
  /** Bytes of the attack sent so far, on every connection. */
  sent(): number;
  /** Command lines received, on every connection (LOGIN's password included: a test server). */
  commands(): string[];
  stop(): Promise<void>;
}

const CHUNK = Buffer.alloc(256 * 1024, 0x61);

/** What the 'malformed' attack answers, by command. */
const MALFORMED: Record<string, string> = {
  LIST: '* LIST (\\HasNoChildren "/" "INBOX',
  STATUS: '* STATUS INBOX (MESSAGES many UNSEEN',
  FETCH: '* 1 FETCH (UID one FLAGS (\\Seen ENVELOPE ("Wed, 1 Jan 2025" "subject" ((NIL NIL "a" "b")) NIL',
  SEARCH: '* SEARCH 1 two (3',
};

/** A well-formed FETCH answer for message `uid` (= its sequence number), with its body when asked. */
function goodFetch(uid: number, body: boolean): string {
  const raw = `Subject: message ${uid}\r\n\r\nhello\r\n`;
  const envelope = `("Wed, 1 Jan 2025 00:00:00 +0000" "message ${uid}" (("Ann" NIL "ann" "example.org")) NIL NIL NIL NIL NIL NIL "<m${uid}@example.org>")`;
  return `* ${uid} FETCH (UID ${uid} FLAGS (\\Seen) RFC822.SIZE ${raw.length} INTERNALDATE "01-Jan-2025 00:00:00 +0000" ENVELOPE ${envelope} BODYSTRUCTURE ("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "7BIT" 7 1)${body ? ` BODY[] {${raw.length}}\r\n${raw}` : ''})\r\n`;
}

export function startHostileImap(attack: Attack, on: RegExp): Promise<HostileImap> {
  const sockets = new Set<Socket>();
  const commands: string[] = [];
  let sent = 0;
  const drip = (socket: Socket, head: string) => {
    socket.write(head);
    const more = () => {
      while (!socket.destroyed && sent < 4 * 1024 * 1024 * 1024) {
        sent += CHUNK.length;
        // Full: go on when the client has read what is queued.
        if (!socket.write(CHUNK)) return void socket.once('drain', more);
      }
    };
    more();
  };
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.write('* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hostile test server ready\r\n');
    let buffer = '';
    socket.on('data', (data) => {
      buffer += data.toString('latin1');
      for (let lf = buffer.indexOf('\n'); lf >= 0; lf = buffer.indexOf('\n')) {
        const line = buffer.slice(0, lf).replace(/\r$/, '');
        buffer = buffer.slice(lf + 1);
        commands.push(line);
        const [tag = '', command = ''] = line.split(' ');
        if (on.test(line)) {
          if (attack === 'endless-line') drip(socket, '* LIST (\\HasNoChildren) "/" ');
          else if (attack === 'huge-literal') drip(socket, '* 1 FETCH (UID 1 BODY[] {4294967295}\r\n');
          else if (attack === 'bye') socket.end('* LIST () "/" INBOX\r\n* BYE [UNAVAILABLE] server shutting down\r\n');
          else if (attack === 'malformed') socket.write(`${MALFORMED[(/^\S+ (?:UID )?(\S+)/i.exec(line)?.[1] ?? '').toUpperCase()] ?? '* 1 FETCH (('}\r\n${tag} OK done\r\n`);
          else if (attack === 'many-folders') {
            const lines = ['* LIST (\\HasNoChildren) "/" INBOX\r\n'];
            for (let i = 0; i < 100_000; i++) lines.push(`* LIST (\\HasNoChildren) "/" "Archive/${Math.floor(i / 1000)}/folder ${i}"\r\n`);
            socket.write(lines.join('') + `${tag} OK LIST done\r\n`);
          }
          continue;
        }
        switch (command.toUpperCase()) {
          case 'CAPABILITY':
            socket.write(`* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n${tag} OK done\r\n`);
            break;
          case 'LOGIN':
          case 'AUTHENTICATE':
            socket.write(`${tag} OK [CAPABILITY IMAP4rev1 LIST-EXTENDED] logged in\r\n`);
            break;
          case 'LOGOUT':
            socket.end(`* BYE bye\r\n${tag} OK done\r\n`);
            break;
          case 'LIST':
            socket.write(`* LIST (\\HasNoChildren) "/" INBOX\r\n${tag} OK done\r\n`);
            break;
          case 'UID':
            // The 'malformed' attack's INBOX, for the commands it does not break: three messages.
            if (/ SEARCH /i.test(line)) socket.write(`* SEARCH 1 2 3\r\n${tag} OK done\r\n`);
            else if (/ FETCH /i.test(line)) socket.write(`${[1, 2, 3].map((uid) => goodFetch(uid, /BODY/i.test(line))).join('')}${tag} OK done\r\n`);
            else socket.write(`${tag} OK done\r\n`);
            break;
          case 'SELECT':
          case 'EXAMINE':
            socket.write(`* 3 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT 4] ok\r\n* FLAGS (\\Seen \\Flagged)\r\n${tag} OK [READ-WRITE] done\r\n`);
            break;
          case 'NOOP':
            socket.write(`${tag} OK done\r\n`);
            break;
          case 'STATUS': {
            const name = line.slice(tag.length + ' STATUS '.length, line.lastIndexOf(' ('));
            const number = /folder (\d+)"$/.exec(name)?.[1] ?? '0';
            if (attack === 'many-folders') socket.write(`* STATUS ${name} (MESSAGES ${number} UNSEEN 1)\r\n${tag} OK done\r\n`);
            else if (attack === 'malformed') socket.write(`* STATUS ${name} (MESSAGES 3 UNSEEN 1 UIDNEXT 4 UIDVALIDITY 7)\r\n${tag} OK done\r\n`);
            else socket.write(`${tag} NO not here\r\n`);
            break;
          }
          default:
            socket.write(`${tag} NO not here\r\n`);
        }
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () =>
      resolve({
        port: (server.address() as AddressInfo).port,
        sent: () => sent,
        commands: () => [...commands],
        stop: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      }),
    );
  });
}
