// An envelope as a backend lists it, for unit tests of the local query checks: Ann's unread,
// flagged "Quarterly report" to Bob of 10 June 2026, 2 KB, no attachment; `over` changes any field.
import type { Envelope } from '../../src/domain/types.js';

export function envelopeFixture(over: Partial<Envelope> = {}): Envelope {
  return {
    ref: { id: 'abc123', folder: 'INBOX' },
    uid: null,
    messageId: '<m1@example.com>',
    subject: 'Quarterly report',
    from: { name: 'Ann Example', address: 'ann@example.com' },
    to: [{ name: '', address: 'bob@example.org' }],
    cc: [],
    date: new Date('2026-06-10T09:00:00Z'),
    received: new Date('2026-06-10T09:00:00Z'),
    size: 2048,
    flags: { seen: false, flagged: true, answered: false, draft: false, keywords: [] },
    hasAttachments: false,
    ...over,
  };
}
