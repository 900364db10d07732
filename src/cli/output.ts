/**
 * Printing: JSON and NDJSON from the model, tables on a TTY, tab-separated
 * rows when piped. Commands build rows; they never format by hand.
 */
import type { Address, Envelope, Folder, MessageFlags } from '../domain/types.js';
import type { CliContext } from './context.js';
import { isoDate } from '../core/iso-date.js';

// JSON dates are formatted in core (the account JSON needs it too); the CLI prints them.
export { isoDate } from '../core/iso-date.js';

export function printJson(ctx: CliContext, value: unknown): void {
  ctx.out(JSON.stringify(value, null, 2) + '\n');
}

export function printNdjson(ctx: CliContext, value: unknown): void {
  ctx.out(JSON.stringify(value) + '\n');
}

export interface Column {
  header: string;
  /** Cap for table cells (TSV is never cut). */
  maxWidth?: number;
  /** Never cut to fit the terminal: values a user copies (ids) or that mean nothing cut (dates). */
  keep?: boolean;
}

/** Blanks between table columns. */
const GAP = 2;
/** A cut column keeps at least its header, or this many characters. */
const MIN_CUT_WIDTH = 6;

/**
 * Column widths for a table no wider than the terminal: each column as wide as its widest cell
 * (up to maxWidth), then the widest column that may be cut gives way first, one character at a
 * time, so short columns stay whole. Only `keep` columns and minimum widths can still overflow.
 */
export function fitWidths(columns: Column[], rows: string[][], width: number): number[] {
  const widths = columns.map((c, i) => Math.min(c.maxWidth ?? Infinity, Math.max(c.header.length, ...rows.map((r) => (r[i] ?? '').length))));
  const floors = columns.map((c, i) => (c.keep ? widths[i]! : Math.min(widths[i]!, Math.max(c.header.length, MIN_CUT_WIDTH))));
  let excess = widths.reduce((sum, w) => sum + w, 0) + GAP * (columns.length - 1) - width;
  while (excess > 0) {
    let widest = -1;
    for (let i = 0; i < widths.length; i++) {
      if (widths[i]! > floors[i]! && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
    }
    if (widest < 0) break;
    widths[widest]!--;
    excess--;
  }
  return widths;
}

/** A table on a TTY, TSV when piped. Cells are single-line. */
export async function printRows(ctx: CliContext, columns: Column[], rows: string[][]): Promise<void> {
  const clean = rows.map((row) => row.map((cell) => cell.replace(/[\t\r\n]+/g, ' ')));
  if (ctx.output !== 'table') {
    for (const row of clean) ctx.out(row.join('\t') + '\n');
    return;
  }
  const [{ default: Table }, { Chalk }] = await Promise.all([import('cli-table3'), import('chalk')]);
  const chalk = new Chalk({ level: ctx.colorFor('stdout') ? 1 : 0 });
  // A terminal that reports no size (0 or none) gets a common width.
  const width = (ctx.io.stdout as { columns?: number }).columns || 120;
  const table = new Table({
    head: columns.map((c) => chalk.bold(c.header)),
    style: { head: [], border: [], compact: true, 'padding-left': 0, 'padding-right': 0 },
    chars: { top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: ' '.repeat(GAP) },
    wordWrap: false,
  });
  const widths = fitWidths(columns, clean, width);
  for (const row of clean) {
    table.push(row.map((cell, i) => truncate(cell, widths[i] ?? cell.length)));
  }
  ctx.out(table.toString().split('\n').map((l) => l.trimEnd()).join('\n') + '\n');
}

function truncate(text: string, max: number): string {
  return text.length > max ? text.slice(0, Math.max(1, max - 1)) + '…' : text;
}

export function formatAddress(a: Address | null): string {
  if (!a) return '';
  return a.name ? `${a.name} <${a.address}>` : a.address;
}

/** Short flag markers for tables: N(ew) F(lagged) A(nswered) D(raft) and @ for attachments. */
export function flagMarkers(env: Envelope): string {
  const f = env.flags;
  return [
    f.seen ? '' : 'N',
    f.flagged ? 'F' : '',
    f.answered ? 'A' : '',
    f.draft ? 'D' : '',
    env.hasAttachments ? '@' : '',
  ].join('');
}

/**
 * The `flags` list of the JSON: the names scripts have read since the first release (IMAP's
 * system flags), then the backend's other flags and keywords.
 */
export function flagNames(flags: MessageFlags): string[] {
  return [
    ...(flags.seen ? ['\\Seen'] : []),
    ...(flags.answered ? ['\\Answered'] : []),
    ...(flags.flagged ? ['\\Flagged'] : []),
    ...(flags.draft ? ['\\Draft'] : []),
    ...flags.keywords,
  ];
}

/** The contract's message fields (ls, search, read). */
/** `folderPath`: the folder's path as users type it, where its id is something else (a Gmail label id). */
export function envelopeJson(env: Envelope, folderPath?: string) {
  return {
    id: env.ref.id,
    uid: env.uid,
    folder: folderPath ?? env.ref.folder,
    message_id: env.messageId,
    subject: env.subject,
    from: env.from,
    to: env.to,
    cc: env.cc,
    date: isoDate(env.date),
    size: env.size,
    flags: flagNames(env.flags),
    is_read: env.flags.seen,
    is_flagged: env.flags.flagged,
    has_attachments: env.hasAttachments,
  };
}

export function folderJson(f: Folder) {
  return { id: f.id, path: f.path, name: f.name, role: f.role, unread_count: f.unreadCount, total_count: f.totalCount };
}

/** Human date for tables: local "YYYY-MM-DD HH:MM". */
export function shortDate(date: Date | null): string {
  if (!date) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
