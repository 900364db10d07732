/**
 * The search query language (spec: "search QUERY"), parsed into a QueryNode.
 *
 * Grammar, loosest binding first (NOT binds tightest, then implicit AND, then OR):
 *
 *   query   = or END
 *   or      = and { OR and }
 *   and     = unary { [AND] unary }
 *   unary   = ( "-" | NOT ) unary | primary
 *   primary = "(" or ")" | term
 *
 * Nested and/or nodes are flattened and a one-child and/or is its child, so
 * equal queries give equal trees (`(a b) c` and `a b c`).
 */
import type { QueryNode } from '../../domain/query.js';
import { type OperatorToken, type Token, tokenize } from './lexer.js';
import { querySyntaxError } from './syntax-error.js';
import { termNode } from './terms.js';

export interface ParseOptions {
  /** The moment relative dates (`today`, `7d`) count from; defaults to the current time. */
  now?: Date;
}

const BINARY_HINT = { or: "'OR' goes between two terms: a OR b", and: "'AND' goes between two terms: a AND b" };
const NEGATION_HINT = 'follow it with the term to exclude: -word, NOT from:alice, -(a OR b)';

/** Parses a query; throws a QUERY_SYNTAX usage error that points at the offending column. */
export function parseQuery(text: string, options: ParseOptions = {}): QueryNode {
  const now = options.now ?? new Date();
  const tokens = tokenize(text);
  let position = 0;

  const peek = (): Token => tokens[position] as Token;
  const advance = (): Token => tokens[position++] as Token;
  const fail = (token: Token, problem: string, hint: string): never => {
    throw querySyntaxError(text, token.start, problem, hint);
  };

  /** After an operator that needs an operand: the next token must be able to start a term. */
  const expectOperand = (operator: OperatorToken, hint: string): void => {
    const next = peek();
    if (next.type === 'end') fail(operator, `nothing after '${operator.text}'`, hint);
    if (next.type === 'rparen' || next.type === 'or' || next.type === 'and') fail(next, `unexpected '${next.text}'`, hint);
  };

  const parseOr = (): QueryNode => {
    const children = [parseAnd()];
    while (peek().type === 'or') {
      const operator = advance() as OperatorToken;
      expectOperand(operator, BINARY_HINT.or);
      children.push(parseAnd());
    }
    return combine('or', children);
  };

  const parseAnd = (): QueryNode => {
    const children: QueryNode[] = [];
    for (;;) {
      const next = peek();
      if (next.type === 'end' || next.type === 'rparen' || next.type === 'or') break;
      if (next.type === 'and') {
        if (children.length === 0) fail(next, `'${next.text}' needs a term before it`, BINARY_HINT.and);
        expectOperand(advance() as OperatorToken, BINARY_HINT.and);
        continue;
      }
      children.push(parseUnary());
    }
    if (children.length === 0) {
      const next = peek();
      if (next.type === 'or') fail(next, `'${next.text}' needs a term before it`, BINARY_HINT.or);
      if (next.type === 'rparen') fail(next, "unexpected ')'", "remove it, or add the matching '(' before it");
      // Only a query without any token gets here: every operator checks that a term follows it.
      throw querySyntaxError(text, 0, 'empty query', 'give at least one term, e.g. is:unread or from:alice');
    }
    return combine('and', children);
  };

  const parseUnary = (): QueryNode => {
    const next = peek();
    if (next.type === 'neg' || next.type === 'not') {
      expectOperand(advance() as OperatorToken, NEGATION_HINT);
      return { kind: 'not', child: parseUnary() };
    }
    return parsePrimary();
  };

  const parsePrimary = (): QueryNode => {
    const token = advance();
    switch (token.type) {
      case 'word':
        return termNode(text, token, now);
      case 'lparen': {
        if (peek().type === 'rparen') fail(token, 'empty parentheses', 'put at least one term between the parentheses');
        const inner = parseOr();
        if (peek().type !== 'rparen') fail(token, "missing ')' for this '('", "add ')' where the group ends");
        advance();
        return inner;
      }
      default:
        // parseAnd and expectOperand stop before ')', OR, AND and the end; this is the last guard.
        return fail(token, `unexpected '${token.text}'`, 'a term was expected here');
    }
  };

  const tree = parseOr();
  const rest = peek();
  if (rest.type !== 'end') {
    // Only an unmatched ')' can stop parseOr before the end.
    fail(rest, "unexpected ')'", "remove it, or add the matching '(' before it");
  }
  return tree;
}

/** An and/or of the children, with same-kind children merged in and a single child returned as itself. */
export function combine(kind: 'and' | 'or', children: QueryNode[]): QueryNode {
  const flat = children.flatMap((child) => (child.kind === kind ? child.children : [child]));
  if (flat.length === 1) return flat[0] as QueryNode;
  return { kind, children: flat };
}
