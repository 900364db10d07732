/**
 * IMAP responses off the socket, for the sync client (providers/imap/wire/client.ts) and
 * diagnose (diagnose/wire.ts): one reader, so both see a server's bytes the same way.
 *
 * The byte stream is cut into responses: a line, and wherever it ends in a literal
 * `{n}`, n raw bytes and the rest of the line after them (RFC 9051 4.3). A message body
 * is a literal: it stays one Buffer, sliced from the socket's chunks without copying
 * when it arrives in one, and nothing else of the stream is kept.
 *
 * Memory is bounded (limits.ts): a line, a literal or a whole response over its limit throws
 * ResponseTooLarge as soon as it is announced or crosses the limit, before it is held.
 *
 * Values: an atom or number is a string, a quoted string its unescaped text, a
 * literal a Buffer, NIL null, a parenthesised list an array. An atom keeps a
 * bracketed section whole: `BODY[HEADER.FIELDS (REFERENCES)]<0>` is one atom.
 */

import { IMAP_LIMITS, ResponseTooLarge, type ImapLimits } from './limits.js';

export type Value = string | Buffer | null | Value[];

/** A response, cut into text (up to and including a `{n}` or the line end) and literals. */
export type Segments = (string | Buffer)[];

export interface Untagged {
  type: 'untagged';
  tag: '*';
  /** `* 12 FETCH (...)` → number 12, kind FETCH; `* LIST (...)` → number null, kind LIST. */
  number: number | null;
  kind: string;
  /** What follows the kind, unparsed (see parseValues). */
  segments: Segments;
  /** The text after the kind, for status responses (`* OK [UIDNEXT 5] ...`) and simple ones. */
  text: string;
}

export interface Tagged {
  type: 'tagged';
  tag: string;
  status: 'OK' | 'NO' | 'BAD';
  /** The response code without brackets, upper-cased atom first: "AUTHENTICATIONFAILED", "UIDVALIDITY 3". */
  code: string | null;
  text: string;
}

export interface Continuation {
  type: 'continuation';
  tag: '+';
  text: string;
}

export type Response = Untagged | Tagged | Continuation;

const LF = 0x0a;

/**
 * Cuts a byte stream into responses. push() returns those completed by the chunk;
 * a literal still arriving is kept as the list of chunks it spans until it is whole.
 */
export class ResponseReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private segments: Segments = [];
  /** Bytes of literal still to come; -1 when reading a line. */
  private literalLeft = -1;
  /** Bytes of the response being read, its finished segments and what is held. */
  private responseBytes = 0;
  private readonly limits: ImapLimits;

  /**
   * `onLine` sees the stream as it was sent, for a line-by-line trace (diagnose): each line
   * without its CRLF, and each literal as its size.
   */
  constructor(
    private readonly onLine: ((line: string | number) => void) | null = null,
    limits: Partial<ImapLimits> = {},
  ) {
    this.limits = { ...IMAP_LIMITS, ...limits };
  }

  /** Bytes held for an incomplete response (for backpressure decisions). */
  get buffered(): number {
    return this.pendingBytes;
  }

  push(chunk: Buffer): Response[] {
    const out: Response[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (this.literalLeft >= 0) {
        const take = Math.min(this.literalLeft, chunk.length - offset);
        this.hold(chunk.subarray(offset, offset + take));
        offset += take;
        this.literalLeft -= take;
        if (this.literalLeft === 0) {
          const literal = this.release();
          this.onLine?.(literal.length);
          this.segments.push(literal);
          this.literalLeft = -1;
        }
        continue;
      }
      const lf = chunk.indexOf(LF, offset);
      if (lf === -1) {
        this.hold(chunk.subarray(offset));
        if (this.pendingBytes > this.limits.maxLine) throw new ResponseTooLarge('line', this.pendingBytes, this.limits.maxLine);
        break;
      }
      this.hold(chunk.subarray(offset, lf + 1));
      if (this.pendingBytes > this.limits.maxLine) throw new ResponseTooLarge('line', this.pendingBytes, this.limits.maxLine);
      offset = lf + 1;
      const line = this.release().toString('utf8');
      this.onLine?.(line.replace(/\r?\n$/, ''));
      const literal = /\{(\d+)\+?\}\r?\n$/.exec(line);
      if (literal) {
        this.segments.push(line.slice(0, literal.index + literal[0].indexOf('}') + 1));
        this.literalLeft = Number(literal[1]);
        // Refused as announced: nothing of it is held (a {4294967295} allocates nothing).
        if (this.literalLeft > this.limits.maxLiteral) throw new ResponseTooLarge('literal', this.literalLeft, this.limits.maxLiteral);
        if (this.responseBytes + this.literalLeft > this.limits.maxResponse) throw new ResponseTooLarge('response', this.responseBytes + this.literalLeft, this.limits.maxResponse);
        if (this.literalLeft === 0) {
          this.onLine?.(0);
          this.segments.push(Buffer.alloc(0));
          this.literalLeft = -1;
        }
        continue;
      }
      this.segments.push(line.replace(/\r?\n$/, ''));
      out.push(toResponse(this.segments));
      this.segments = [];
      this.responseBytes = 0;
    }
    return out;
  }

  private hold(part: Buffer): void {
    if (part.length === 0) return;
    this.pending.push(part);
    this.pendingBytes += part.length;
    this.responseBytes += part.length;
    if (this.responseBytes > this.limits.maxResponse) throw new ResponseTooLarge('response', this.responseBytes, this.limits.maxResponse);
  }

  private release(): Buffer {
    const whole = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    return whole;
  }
}

function toResponse(segments: Segments): Response {
  const first = segments[0] as string;
  if (first.startsWith('+')) return { type: 'continuation', tag: '+', text: first.slice(2) };
  const space = first.indexOf(' ');
  const tag = space === -1 ? first : first.slice(0, space);
  const rest = space === -1 ? '' : first.slice(space + 1);
  if (tag !== '*') {
    const status = /^(OK|NO|BAD)\b ?/i.exec(rest);
    const after = status ? rest.slice(status[0].length) : rest;
    const code = /^\[([^\]]*)\] ?/.exec(after);
    return {
      type: 'tagged',
      tag,
      status: (status?.[1]?.toUpperCase() ?? 'BAD') as Tagged['status'],
      code: code ? normaliseCode(code[1]!) : null,
      text: code ? after.slice(code[0].length) : after,
    };
  }
  // `* 5 EXISTS`, `* LIST ...`; a bare `*` from a broken server has kind "" and is ignored.
  const head = /^(?:(\d+) )?(\S*) ?/.exec(rest)!;
  const after = rest.slice(head[0].length);
  return {
    type: 'untagged',
    tag: '*',
    number: head[1] !== undefined ? Number(head[1]) : null,
    kind: head[2]!.toUpperCase(),
    segments: [after, ...segments.slice(1)],
    text: segments.length === 1 ? after : after.replace(/\{\d+\+?\}$/, ''),
  };
}

function normaliseCode(code: string): string {
  const space = code.indexOf(' ');
  return space === -1 ? code.toUpperCase() : code.slice(0, space).toUpperCase() + code.slice(space);
}

/** The response code of an untagged status response's text: `[UIDVALIDITY 3] ok` → ["UIDVALIDITY", "3"]. */
export function responseCode(text: string): [string, string] | null {
  const match = /^\[(\S+)(?: ([^\]]*))?\]/.exec(text);
  return match ? [match[1]!.toUpperCase(), match[2] ?? ''] : null;
}

/** The values of a response after its kind: `(UID 5 FLAGS (\Seen))` → [["UID", "5", "FLAGS", ["\\Seen"]]]. */
export function parseValues(segments: Segments): Value[] {
  const top: Value[] = [];
  const stack: Value[][] = [top];
  for (let s = 0; s < segments.length; s++) {
    const segment = segments[s]!;
    if (typeof segment !== 'string') {
      stack[stack.length - 1]!.push(segment);
      continue;
    }
    let i = 0;
    while (i < segment.length) {
      const c = segment[i]!;
      const list = stack[stack.length - 1]!;
      if (c === ' ') {
        i++;
      } else if (c === '(') {
        const inner: Value[] = [];
        list.push(inner);
        stack.push(inner);
        i++;
      } else if (c === ')') {
        if (stack.length > 1) stack.pop();
        i++;
      } else if (c === '"') {
        let text = '';
        i++;
        while (i < segment.length && segment[i] !== '"') {
          if (segment[i] === '\\' && i + 1 < segment.length) i++;
          text += segment[i];
          i++;
        }
        list.push(text);
        i++;
      } else if (c === '{' && /^\{\d+\+?\}$/.test(segment.slice(i))) {
        // The literal itself is the next segment.
        i = segment.length;
      } else {
        const start = i;
        let depth = 0;
        while (i < segment.length) {
          const d = segment[i]!;
          if (d === '[') depth++;
          else if (d === ']') depth--;
          else if (depth === 0 && (d === ' ' || d === '(' || d === ')')) break;
          i++;
        }
        const atom = segment.slice(start, i);
        list.push(atom.toUpperCase() === 'NIL' ? null : atom);
      }
    }
  }
  return top;
}

/** A value as text: literals are UTF-8, NIL is null. */
export function text(value: Value | undefined): string | null {
  if (value === null || value === undefined || Array.isArray(value)) return null;
  return typeof value === 'string' ? value : value.toString('utf8');
}

/** A FETCH response's attribute list as a map: UID → "5", FLAGS → [...], BODY[]<0> → Buffer. */
export function fetchAttributes(segments: Segments): Map<string, Value> {
  const [list] = parseValues(segments);
  const map = new Map<string, Value>();
  if (!Array.isArray(list)) return map;
  for (let i = 0; i + 1 < list.length; i += 2) {
    const key = list[i];
    if (typeof key === 'string') map.set(key.toUpperCase(), list[i + 1]!);
  }
  return map;
}

/**
 * A number of a server's answer (a count, a size, a UID): digits only, else null. `Number()`
 * would take "NIL10" as NaN and " " as 0, and fuzzing found a NaN size and unread count stored.
 */
export function imapNumber(value: unknown): number | null {
  const t = typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('latin1') : null;
  return t !== null && /^\d{1,15}$/.test(t) ? Number(t) : null;
}

/**
 * An answer the client cannot read where it must (a LIST entry without its name, a FETCH whose
 * UID is not a number): going on would act on half an answer (a folder list without folders, a
 * message skipped while the token passes it), so the connection is given up instead.
 */
export class MalformedResponse extends Error {
  readonly code = 'EPROTOCOL';

  /** `response`: the answer as parsed, or the line as it came (imapflow's parser refused it). */
  constructor(what: string, response: Pick<Untagged, 'kind' | 'number' | 'segments'> | string) {
    const line =
      typeof response === 'string'
        ? response
        : `* ${response.number === null ? '' : `${response.number} `}${response.kind} ${response.segments.map((s) => (typeof s === 'string' ? s : `<${s.length} bytes>`)).join('').trimStart()}`;
    super(`${what} mailops cannot read: ${excerpt(line)}`);
    this.name = 'MalformedResponse';
  }
}

/** The start of an answer for an error: printable, at most 80 characters. */
function excerpt(line: string): string {
  const printable = line.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 80 ? `${printable.slice(0, 80)}...` : printable;
}
