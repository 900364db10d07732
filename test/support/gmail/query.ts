// The subset of Gmail's search language (`q`) that mailops compiles to: in:/label:, is:, from:,
// to:, cc:, bcc:, subject:, rfc822msgid:, after:/before: (epoch seconds), larger:/smaller:, has:attachment, words and
// "phrases", `-` / NOT, OR, ( ) and { }. Anything else is refused loudly (GmailQueryError) instead
// of matching nothing, so a client that starts emitting an operator the fake does not know fails
// its test rather than passing on an empty result.

export class GmailQueryError extends Error {}

/** What a term is matched against; built by the mailbox from one message. */
export interface Searchable {
  labelIds: string[];
  /** Label id for a name used in `in:`/`label:` (case-insensitive, `-` standing for `/` or space). */
  resolveLabel(name: string): string | undefined;
  header(name: string): string;
  sizeEstimate: number;
  internalDate: number;
  hasAttachment: boolean;
  text: string;
}

type Node =
  | { kind: 'and' | 'or'; items: Node[] }
  | { kind: 'not'; item: Node }
  | { kind: 'term'; op: string; value: string };

const TOKEN = /\s*(\(|\)|\{|\}|-(?=\S)|"[^"]*"|[^\s(){}"]+(?:"[^"]*")?)/y;

function tokenize(q: string): string[] {
  const tokens: string[] = [];
  let end = 0; // a failed sticky exec resets lastIndex, so where reading stopped is kept here
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(q); m; m = TOKEN.exec(q)) {
    tokens.push(m[1]!);
    end = TOKEN.lastIndex;
  }
  if (q.slice(end).trim()) throw new GmailQueryError(`cannot read the query from: ${q.slice(end)}`);
  return tokens;
}

export function parseQuery(q: string): Node {
  const tokens = tokenize(q);
  let pos = 0;
  // sequence := or-group+ ; or-group := unary ('OR' unary)* ; a sequence is an AND ({ } an OR).
  const sequence = (close: string | null, kind: 'and' | 'or'): Node => {
    const items: Node[] = [];
    while (pos < tokens.length && tokens[pos] !== close) items.push(orGroup());
    if (close) {
      if (tokens[pos] !== close) throw new GmailQueryError(`missing ${close}`);
      pos++;
    }
    return { kind, items };
  };
  const orGroup = (): Node => {
    const items = [unary()];
    while (tokens[pos] === 'OR') {
      pos++;
      items.push(unary());
    }
    return items.length === 1 ? items[0]! : { kind: 'or', items };
  };
  const unary = (): Node => {
    const t = tokens[pos++];
    if (t === undefined) throw new GmailQueryError('query ends early');
    if (t === '-' || t === 'NOT') return { kind: 'not', item: unary() };
    if (t === '(') return sequence(')', 'and');
    if (t === '{') return sequence('}', 'or');
    if (t === ')' || t === '}') throw new GmailQueryError(`unexpected ${t}`);
    const m = /^([a-z][a-z0-9]*):(.+)$/i.exec(t); // rfc822msgid has digits
    if (m) return { kind: 'term', op: m[1]!.toLowerCase(), value: unquote(m[2]!) };
    return { kind: 'term', op: '', value: unquote(t) };
  };
  const root = sequence(null, 'and');
  checkTerms(root);
  return root;
}

function unquote(v: string): string {
  return v.replace(/^"(.*)"$/, '$1');
}

const OPERATORS = new Set(['', 'in', 'label', 'is', 'from', 'to', 'cc', 'bcc', 'subject', 'rfc822msgid', 'after', 'before', 'larger', 'smaller', 'has']);

function checkTerms(node: Node): void {
  if (node.kind === 'term') {
    if (!OPERATORS.has(node.op)) throw new GmailQueryError(`operator ${node.op}: is not supported by the fake`);
    if ((node.op === 'after' || node.op === 'before') && !/^\d+$/.test(node.value)) {
      // Gmail reads YYYY/MM/DD as midnight Pacific time, which is exactly the bug the client must avoid.
      throw new GmailQueryError(`${node.op}:${node.value}: the fake takes dates as epoch seconds only`);
    }
    if (node.op === 'has' && node.value !== 'attachment') throw new GmailQueryError(`has:${node.value} is not supported by the fake`);
  } else if (node.kind === 'not') checkTerms(node.item);
  else node.items.forEach(checkTerms);
}

function size(v: string): number {
  const m = /^(\d+)([km]?)$/i.exec(v);
  if (!m) throw new GmailQueryError(`bad size ${v}`);
  return Number(m[1]) * ({ '': 1, k: 1024, m: 1024 * 1024 }[m[2]!.toLowerCase()] ?? 1);
}

const IS_LABEL: Record<string, string> = { unread: 'UNREAD', starred: 'STARRED', important: 'IMPORTANT' };

export function matches(node: Node, msg: Searchable): boolean {
  switch (node.kind) {
    case 'and':
      return node.items.every((n) => matches(n, msg));
    case 'or':
      return node.items.some((n) => matches(n, msg));
    case 'not':
      return !matches(node.item, msg);
    case 'term':
      return term(node.op, node.value, msg);
  }
}

function term(op: string, value: string, msg: Searchable): boolean {
  const v = value.toLowerCase();
  const has = (h: string) => msg.header(h).toLowerCase().includes(v);
  switch (op) {
    case 'in':
    case 'label': {
      if (v === 'anywhere') return true;
      const id = msg.resolveLabel(v);
      if (!id) return false; // Gmail: an unknown label matches nothing
      return msg.labelIds.includes(id);
    }
    case 'is':
      if (v === 'read') return !msg.labelIds.includes('UNREAD');
      if (IS_LABEL[v]) return msg.labelIds.includes(IS_LABEL[v]!);
      throw new GmailQueryError(`is:${value} is not supported by the fake`);
    case 'from':
      return has('from');
    case 'to':
      return has('to') || has('cc') || has('bcc');
    case 'cc':
      return has('cc');
    case 'bcc':
      return has('bcc');
    case 'subject':
      return has('subject');
    case 'rfc822msgid':
      return msg.header('message-id').trim().replace(/^<|>$/g, '').toLowerCase() === v.replace(/^<|>$/g, '');
    case 'after':
      return msg.internalDate >= Number(value) * 1000;
    case 'before':
      return msg.internalDate < Number(value) * 1000;
    case 'larger':
      return msg.sizeEstimate > size(value);
    case 'smaller':
      return msg.sizeEstimate < size(value);
    case 'has':
      return msg.hasAttachment;
    default:
      return ['subject', 'from', 'to', 'cc'].some(has) || msg.text.toLowerCase().includes(v);
  }
}

/** Whether the query names trash or spam itself, which lifts messages.list's default exclusion. */
export function mentionsSpamTrash(node: Node): boolean {
  if (node.kind === 'term') return (node.op === 'in' || node.op === 'label') && ['trash', 'spam', 'anywhere'].includes(node.value.toLowerCase());
  if (node.kind === 'not') return mentionsSpamTrash(node.item);
  return node.items.some(mentionsSpamTrash);
}

export type Query = Node;
