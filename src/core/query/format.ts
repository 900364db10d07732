/**
 * The canonical text of a query tree: what messages and tests show. Parsing
 * the text gives the same tree back (relative dates appear resolved).
 */
import type { QueryNode } from '../../domain/query.js';
import { formatSize } from './sizes.js';

/** Text that needs quotes: empty, whitespace, parentheses, quotes, control characters. */
const NEEDS_QUOTES = /^$|[\s()"\u0000-\u001f\u007f]/;

export function formatQuery(node: QueryNode): string {
  switch (node.kind) {
    case 'and':
      return node.children.map((child) => (child.kind === 'or' ? `(${formatQuery(child)})` : formatQuery(child))).join(' ');
    case 'or':
      // Parentheses around an AND inside an OR are not needed (AND binds tighter) but make the reading obvious.
      return node.children.map((child) => (child.kind === 'and' ? `(${formatQuery(child)})` : formatQuery(child))).join(' OR ');
    case 'not':
      return node.child.kind === 'and' || node.child.kind === 'or' ? `-(${formatQuery(node.child)})` : `-${formatQuery(node.child)}`;
    case 'text':
      return node.field === 'any' ? formatWord(node.value) : `${node.field}:${formatValue(node.value)}`;
    case 'message_id':
      return `message-id:${formatValue(node.value)}`;
    case 'flag':
      return `is:${node.flag}`;
    case 'has_attachment':
      return 'has:attachment';
    case 'date':
      return `${node.op}:${node.date}`;
    case 'size':
      return `${node.op}:${formatSize(node.bytes)}`;
  }
}

/** A bare word must also not read as an operator, a negation or a key. */
function formatWord(value: string): string {
  const bare = !NEEDS_QUOTES.test(value) && !value.startsWith('-') && !value.includes(':') && value.toLowerCase() !== 'or' && value !== 'AND' && value !== 'NOT';
  return bare ? value : quote(value);
}

function formatValue(value: string): string {
  return NEEDS_QUOTES.test(value) ? quote(value) : value;
}

function quote(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}
