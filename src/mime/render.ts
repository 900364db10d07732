/**
 * The plain text `read` prints (the CLI may colour it): a header block, a blank
 * line, the body, then the attachments. Pure functions of a ParsedMessage.
 * Everything a sender wrote is stripped of terminal control characters, so a
 * message cannot move the cursor, retitle the terminal or hide lines.
 */

import type { Address } from '../domain/types.js';
import { headerValue } from './headers.js';
import type { HeaderLine, ParsedAttachment, ParsedMessage } from './parse.js';

export interface RenderOptions {
  /** --headers: every top-level header field, in order, instead of the summary. */
  allHeaders?: boolean;
  /** --html: the HTML part as sent instead of the text (the text when there is no HTML part). */
  html?: boolean;
}

export function renderMessage(message: ParsedMessage, options: RenderOptions = {}): string {
  const headers = options.allHeaders ? message.headers : summaryHeaders(message);
  const body = options.html && message.bodyHtml !== null ? message.bodyHtml : message.bodyText;
  const blocks = [renderHeaderLines(headers), cleanText(body).trimEnd()];
  if (message.attachments.length > 0) blocks.push(renderAttachments(message.attachments));
  return blocks.filter((block) => block !== '').join('\n\n') + '\n';
}

/**
 * From, To, Cc, Date (ISO 8601 UTC) and Subject, each shown when the message has
 * it. Where an address or the date could not be parsed, the header's own text is
 * shown instead, so a malformed message still says what it claims.
 */
export function summaryHeaders(message: ParsedMessage): HeaderLine[] {
  const lines: HeaderLine[] = [];
  const add = (name: string, parsed: string, rawName: string): void => {
    const value = parsed !== '' ? parsed : (headerValue(message.headers, rawName) ?? '');
    if (value !== '') lines.push({ name, value });
  };
  add('From', message.from ? formatAddress(message.from) : '', 'from');
  add('To', formatAddresses(message.to), 'to');
  add('Cc', formatAddresses(message.cc), 'cc');
  add('Date', message.date ? formatDate(message.date) : '', 'date');
  lines.push({ name: 'Subject', value: message.subject });
  return lines;
}

export function renderHeaderLines(headers: readonly HeaderLine[]): string {
  // A line that had no colon in the message is shown as it was.
  return headers.map((h) => (h.name === '' ? cleanLine(h.value) : `${cleanLine(h.name)}: ${cleanLine(h.value)}`)).join('\n');
}

/** "Attachments:" then one aligned line each: name, content type, size, and "(inline)" for body images. */
export function renderAttachments(attachments: readonly ParsedAttachment[]): string {
  const rows = attachments.map((a) => [cleanLine(a.filename), cleanLine(a.contentType), formatSize(a.size), a.inline ? '(inline)' : '']);
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => row[column]!.length)));
  const lines = rows.map((row) => '  ' + row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd());
  return ['Attachments:', ...lines].join('\n');
}

/** `Name <address>`; the name is quoted when it holds characters that would misread as list syntax. */
export function formatAddress(address: Address): string {
  const name = address.name.trim();
  if (name === '') return address.address;
  const shown = /[,;<>"@]/.test(name) ? `"${name.replace(/(["\\])/g, '\\$1')}"` : name;
  return address.address === '' ? shown : `${shown} <${address.address}>`;
}

export function formatAddresses(addresses: readonly Address[]): string {
  return addresses.map(formatAddress).join(', ');
}

/** ISO 8601 UTC to the second, as everywhere in mailops output: 2025-01-09T10:30:00Z. */
export function formatDate(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** 512 B, 1.5 KB, 12 KB, 3.4 MB (powers of 1024). */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

// C0 controls but tab and line feed, DEL, C1 controls (CSI, OSC... as single bytes).
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

function cleanText(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(CONTROL, '');
}

function cleanLine(text: string): string {
  return text.replace(/[\t\r\n]+/g, ' ').replace(CONTROL, '');
}
