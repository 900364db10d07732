// src/cli/output.ts: the contract's date format and JSON field names, and rows printed as an
// aligned table on a terminal or as tab-separated values in a pipe.
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { Envelope, Folder } from '../../src/domain/types.js';
import { envelopeJson, fitWidths, flagMarkers, folderJson, formatAddress, isoDate, printJson, printNdjson, printRows } from '../../src/cli/output.js';
import { fakeContext } from '../support/fake-io.js';

const ESC = '\u001b[';

function envelope(overrides: Partial<Envelope> = {}): Envelope {
  return {
    ref: { id: 'INBOX:7:42', folder: 'INBOX' },
    uid: 42,
    messageId: '<m1@example.org>',
    subject: 'Quarterly report',
    from: { name: 'Alice', address: 'alice@example.org' },
    to: [{ name: '', address: 'bob@example.org' }],
    cc: [],
    date: new Date('2025-01-09T10:30:00.123Z'),
    received: new Date('2025-01-09T10:30:05Z'),
    size: 2048,
    flags: { seen: true, flagged: false, answered: false, draft: false, keywords: [] },
    hasAttachments: false,
    ...overrides,
  };
}

describe('isoDate', () => {
  it('is ISO 8601 UTC to the second, with a Z', () => {
    expect(isoDate(new Date('2025-01-09T10:30:00Z'))).toBe('2025-01-09T10:30:00Z');
    // Milliseconds are dropped, never rounded up into the next second.
    expect(isoDate(new Date('2025-01-09T10:30:00.999Z'))).toBe('2025-01-09T10:30:00Z');
  });

  it('converts strings with an offset to UTC', () => {
    expect(isoDate('2025-01-09T11:30:00+01:00')).toBe('2025-01-09T10:30:00Z');
    expect(isoDate('Thu, 09 Jan 2025 05:30:00 -0500')).toBe('2025-01-09T10:30:00Z');
  });

  it('gives null for no date and for an invalid one', () => {
    expect(isoDate(null)).toBeNull();
    expect(isoDate(undefined)).toBeNull();
    expect(isoDate('not a date')).toBeNull();
    expect(isoDate(new Date(Number.NaN))).toBeNull();
  });
});

describe('printRows', () => {
  const columns = [{ header: 'ID' }, { header: 'FROM', maxWidth: 12 }, { header: 'SUBJECT' }];
  const rows = [
    ['1', 'alice@example.org', 'Hello'],
    ['12345', 'bob@example.org', 'A much longer subject\twith a tab\nand a newline'],
  ];

  it('in a pipe prints tab-separated rows: no header, nothing cut, one line per row', async () => {
    const { ctx, stdout } = fakeContext();
    expect(ctx.output).toBe('tsv');
    await printRows(ctx, columns, rows);
    expect(stdout()).toBe('1\talice@example.org\tHello\n12345\tbob@example.org\tA much longer subject with a tab and a newline\n');
  });

  it('on a terminal prints a header row and aligned columns, cutting long cells with an ellipsis', async () => {
    const { ctx, stdout } = fakeContext({ tty: { stdout: true }, columns: 100, flags: { color: false } });
    expect(ctx.output).toBe('table');
    await printRows(ctx, columns, rows);
    const lines = stdout().trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(stdout()).not.toContain('\t');
    expect(stdout()).not.toContain(ESC);
    const [header, first, second] = lines as [string, string, string];
    expect(header.split(/\s+/)).toEqual(['ID', 'FROM', 'SUBJECT']);
    for (const name of ['FROM', 'SUBJECT']) {
      const at = header.indexOf(name);
      // Each row's cell starts where its header does, after at least one blank.
      for (const line of [first, second]) {
        expect(line[at - 1], `${name} in ${JSON.stringify(line)}`).toBe(' ');
        expect(line[at]).not.toBe(' ');
      }
    }
    expect(first.slice(header.indexOf('FROM')).startsWith('alice@examp…')).toBe(true);
    expect(second).toContain('A much longer subject with a tab and a newline');
    for (const line of lines) expect(line).toBe(line.trimEnd());
  });

  it('fits a narrow terminal: the widest column gives way first, ids are never cut', async () => {
    const { ctx, stdout } = fakeContext({ tty: { stdout: true }, columns: 50, flags: { color: false } });
    const id = 'SU5CT1g.1795245819.42';
    await printRows(ctx, [{ header: 'ID', keep: true }, { header: 'FROM' }, { header: 'SUBJECT' }], [[id, 'alice@example.org', 's'.repeat(80)]]);
    const lines = stdout().trimEnd().split('\n');
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(50);
    const [header, row] = lines as [string, string];
    expect(row.startsWith(`${id}  `)).toBe(true);
    // The subject gives way down to the width of FROM, then both do: 21 + 2 + 12 + 2 + 13 = 50.
    expect(row.slice(header.indexOf('FROM'))).toBe(`alice@examp…  ${'s'.repeat(12)}…`);
  });

  it('fitWidths: natural widths when they fit; cuts the widest first; keeps headers and `keep` columns whole', () => {
    const cols = [{ header: 'ID', keep: true }, { header: 'NAME' }, { header: 'NOTE' }];
    const rows = [['abcdefghij', 'x'.repeat(10), 'y'.repeat(30)]];
    expect(fitWidths(cols, rows, 200)).toEqual([10, 10, 30]);
    expect(fitWidths(cols, rows, 40)).toEqual([10, 10, 16]);
    expect(fitWidths(cols, rows, 30)).toEqual([10, 8, 8]);
    // Too narrow for anything: cut columns stop at their floor, kept ones stay whole.
    expect(fitWidths(cols, rows, 5)).toEqual([10, 6, 6]);
    expect(fitWidths([{ header: 'X', maxWidth: 3 }], [['abcdef']], 100)).toEqual([3]);
  });

  it('makes the header bold only when colour is on', async () => {
    const coloured = fakeContext({ tty: { stdout: true }, columns: 100 });
    await printRows(coloured.ctx, columns, rows);
    expect(coloured.stdout()).toContain(`${ESC}1mID`);

    const noColor = fakeContext({ tty: { stdout: true }, columns: 100, env: { NO_COLOR: '1' } });
    await printRows(noColor.ctx, columns, rows);
    expect(noColor.stdout()).not.toContain(ESC);
    expect(noColor.stdout()).toBe(stripVTControlCharacters(coloured.stdout()));

    // FORCE_COLOR colours, but a pipe still gets TSV, which has no header to colour.
    const forcedPipe = fakeContext({ env: { FORCE_COLOR: '1' } });
    await printRows(forcedPipe.ctx, columns, rows);
    expect(forcedPipe.stdout()).not.toContain(ESC);
    expect(forcedPipe.stdout().split('\n')[0]).toBe('1\talice@example.org\tHello');
  });
});

describe('JSON', () => {
  it('envelopeJson has exactly the contract fields, in the contract order', () => {
    const json = envelopeJson(envelope());
    expect(Object.keys(json)).toEqual([
      'id', 'uid', 'folder', 'message_id', 'subject', 'from', 'to', 'cc', 'date', 'size', 'flags', 'is_read', 'is_flagged', 'has_attachments',
    ]);
    expect(json).toEqual({
      id: 'INBOX:7:42',
      uid: 42,
      folder: 'INBOX',
      message_id: '<m1@example.org>',
      subject: 'Quarterly report',
      from: { name: 'Alice', address: 'alice@example.org' },
      to: [{ name: '', address: 'bob@example.org' }],
      cc: [],
      date: '2025-01-09T10:30:00Z',
      size: 2048,
      flags: ['\\Seen'],
      is_read: true,
      is_flagged: false,
      has_attachments: false,
    });
  });

  it('envelopeJson derives is_read and is_flagged from the flags; missing values are null, never absent', () => {
    const json = envelopeJson(envelope({ flags: { seen: false, flagged: true, answered: false, draft: false, keywords: [] }, from: null, date: null, messageId: null, ref: { id: 'x', folder: 'Archive' }, uid: null, hasAttachments: true }));
    expect(json).toMatchObject({ is_read: false, is_flagged: true, from: null, date: null, message_id: null, uid: null, folder: 'Archive', has_attachments: true });
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });

  it('folderJson has exactly the contract fields', () => {
    const folder: Folder = { id: 'Archive/2024', path: 'Archive/2024', name: '2024', delimiter: '/', role: null, unreadCount: 0, totalCount: 12, selectable: true };
    expect(folderJson(folder)).toEqual({ id: 'Archive/2024', path: 'Archive/2024', name: '2024', role: null, unread_count: 0, total_count: 12 });
    expect(Object.keys(folderJson(folder))).toEqual(['id', 'path', 'name', 'role', 'unread_count', 'total_count']);
  });

  it('printJson writes one document; printNdjson one line per object', () => {
    const { ctx, stdout } = fakeContext({ flags: { json: true } });
    printJson(ctx, { a: [1], b: null });
    expect(JSON.parse(stdout())).toEqual({ a: [1], b: null });
    expect(stdout().endsWith('}\n')).toBe(true);

    const nd = fakeContext({ flags: { ndjson: true } });
    printNdjson(nd.ctx, { a: 1, text: 'two\nlines' });
    printNdjson(nd.ctx, { a: 2 });
    expect(nd.stdout().split('\n')).toEqual(['{"a":1,"text":"two\\nlines"}', '{"a":2}', '']);
  });
});

describe('table cells', () => {
  it('formatAddress shows the name when there is one', () => {
    expect(formatAddress({ name: 'Alice', address: 'a@example.org' })).toBe('Alice <a@example.org>');
    expect(formatAddress({ name: '', address: 'a@example.org' })).toBe('a@example.org');
    expect(formatAddress(null)).toBe('');
  });

  it('flagMarkers: N(ew) F(lagged) A(nswered) D(raft) and @ for attachments', () => {
    expect(flagMarkers(envelope({ flags: { seen: false, flagged: false, answered: false, draft: false, keywords: [] } }))).toBe('N');
    expect(flagMarkers(envelope({ flags: { seen: true, flagged: false, answered: false, draft: false, keywords: [] } }))).toBe('');
    expect(flagMarkers(envelope({ flags: { seen: false, flagged: true, answered: true, draft: true, keywords: [] }, hasAttachments: true }))).toBe('NFAD@');
  });
});
