// A minimal IMAP client over TLS for the sync benchmark: the floor (what moving the bytes costs
// with no parsing at all), the untimed warm-up and the changes between runs. It writes commands
// as they come (pipelining) and reads responses with the least work possible: lines are split on
// LF, literals ({N}) are skipped by count, or kept only when asked for. Not a general client:
// no IDLE, no continuation requests (LOGIN uses quoted strings), no error recovery.
import { readFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';

const LITERAL_AT_END = /\{(\d+)\+?\}\r?\n$/;

export class RawImap {
  /** Bytes of literal data received (the message bodies of a FETCH). */
  literalBytes = 0;
  #socket;
  #tag = 0;
  #waiting = new Map();
  #lineParts = [];
  #literalLeft = 0;
  #keep = false;
  #response = null;
  #closed = null;

  constructor(socket) {
    this.#socket = socket;
    socket.on('data', (chunk) => this.#read(chunk));
    socket.on('close', () => this.#fail(this.#closed ?? new Error('IMAP connection closed')));
    socket.on('error', (err) => (this.#closed = err));
  }

  /** Connects over implicit TLS, trusting `caFile`, and logs in. */
  static async open({ host, port, caFile, user, password }) {
    const socket = tlsConnect({ host, port, ca: readFileSync(caFile), servername: host === '127.0.0.1' ? undefined : host });
    const client = new RawImap(socket);
    await new Promise((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    await client.#greeting();
    await client.command(`LOGIN ${quote(user)} ${quote(password)}`);
    return client;
  }

  /**
   * Sends one command and resolves with its untagged responses (each the response's text with
   * its literals as Buffers, when `keep` is set) once the tagged OK arrives; rejects on NO/BAD.
   * Calls may overlap: they are written at once and answered in order.
   */
  command(text, { keep = false } = {}) {
    const tag = `b${++this.#tag}`;
    return new Promise((resolve, reject) => {
      this.#waiting.set(tag, { resolve, reject, keep, untagged: [], text });
      this.#socket.write(`${tag} ${text}\r\n`);
    });
  }

  async logout() {
    await this.command('LOGOUT').catch(() => undefined);
    this.#socket.destroy();
  }

  #greeting() {
    return new Promise((resolve, reject) => this.#waiting.set('*greeting', { resolve, reject, keep: false, untagged: [], text: 'greeting' }));
  }

  #fail(err) {
    for (const waiter of this.#waiting.values()) waiter.reject(err);
    this.#waiting.clear();
  }

  /** The command whose untagged responses are arriving: the oldest still waiting. */
  #current() {
    return this.#waiting.values().next().value;
  }

  #read(chunk) {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#literalLeft > 0) {
        const take = Math.min(this.#literalLeft, chunk.length - offset);
        if (this.#keep) this.#response.parts.push(chunk.subarray(offset, offset + take));
        this.#literalLeft -= take;
        this.literalBytes += take;
        offset += take;
        if (this.#literalLeft === 0 && this.#keep) {
          const parts = this.#response.parts;
          this.#response.literals.push(Buffer.concat(parts));
          this.#response.parts = [];
        }
        continue;
      }
      const newline = chunk.indexOf(10, offset);
      if (newline < 0) {
        this.#lineParts.push(chunk.subarray(offset));
        break;
      }
      this.#lineParts.push(chunk.subarray(offset, newline + 1));
      offset = newline + 1;
      const line = Buffer.concat(this.#lineParts).toString('utf8');
      this.#lineParts = [];
      this.#line(line);
    }
  }

  #line(line) {
    const waiter = this.#current();
    this.#response ??= { text: '', literals: [], parts: [] };
    this.#response.text += line;
    const literal = LITERAL_AT_END.exec(line);
    if (literal) {
      this.#literalLeft = Number(literal[1]);
      this.#keep = waiter?.keep ?? false;
      if (this.#literalLeft === 0 && this.#keep) this.#response.literals.push(Buffer.alloc(0));
      return;
    }
    const response = this.#response;
    this.#response = null;
    if (!waiter) return;
    if (waiter.text === 'greeting') {
      this.#waiting.delete('*greeting');
      if (/^\* (OK|PREAUTH)/.test(response.text)) waiter.resolve([]);
      else waiter.reject(new Error(`IMAP greeting: ${response.text.trim()}`));
      return;
    }
    if (response.text.startsWith('* ') || response.text.startsWith('+')) {
      if (waiter.keep) waiter.untagged.push({ text: response.text, literals: response.literals });
      return;
    }
    const space = response.text.indexOf(' ');
    const tag = response.text.slice(0, space);
    const tagged = this.#waiting.get(tag);
    if (!tagged) return;
    this.#waiting.delete(tag);
    if (/^OK/i.test(response.text.slice(space + 1))) tagged.resolve(tagged.untagged);
    else tagged.reject(new Error(`IMAP ${tagged.text.split(' ')[0]}: ${response.text.trim()}`));
  }
}

/** An IMAP quoted string. */
export function quote(value) {
  return `"${String(value).replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** A folder name in IMAP's modified UTF-7 (RFC 3501 5.1.3), quoted. */
export function mailboxName(name) {
  return quote(modifiedUtf7(name));
}

/** IMAP's modified UTF-7 (RFC 3501 5.1.3), which Dovecot also uses for folder names on disk. */
export function modifiedUtf7(name) {
  let out = '';
  let pending = '';
  const flush = () => {
    if (!pending) return;
    const utf16 = Buffer.from(pending, 'utf16le').swap16();
    out += `&${utf16.toString('base64').replace(/=+$/, '').replace(/\//g, ',')}-`;
    pending = '';
  };
  for (const ch of name) {
    const code = ch.codePointAt(0);
    if (code >= 0x20 && code <= 0x7e) {
      flush();
      out += ch === '&' ? '&-' : ch;
    } else pending += ch;
  }
  flush();
  return out;
}
