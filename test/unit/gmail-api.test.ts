// The Gmail client's pure parts: the quota budget, Google's "slow down" answers, its errors as
// the contract's codes, and the batch answer reader (the wire format is checked against the fake
// in the e2e tests).
import { describe, expect, it } from 'vitest';
import { UnitBudget, parseQuota } from '../../src/net/quota.js';
import { apiError, apiRoot, parseBatchAnswer, rateLimitWait } from '../../src/providers/gmail/api.js';
import { renderBatch } from '../support/gmail/batch.js';

const googleError = (code: number, reason: string, message = 'x') => Buffer.from(JSON.stringify({ error: { code, message, errors: [{ reason, domain: 'global', message }], status: 'X' } }));

describe('quota', () => {
  it('MAILOPS_GMAIL_QUOTA reads units a minute or units per window; anything else is a usage error', () => {
    expect(parseQuota(undefined, 'V')).toBeNull();
    expect(parseQuota('15000', 'V')).toEqual({ units: 15000, windowMs: 60_000 });
    expect(parseQuota('600/1s', 'V')).toEqual({ units: 600, windowMs: 1000 });
    expect(parseQuota(' 6000 / 60s ', 'V')).toEqual({ units: 6000, windowMs: 60_000 });
    for (const bad of ['0', 'lots', '10/0s', '-5', '10/1m']) expect(() => parseQuota(bad, 'V'), bad).toThrow(expect.objectContaining({ code: 'INVALID_VALUE' }));
  });

  it('spends within the window at once, waits for units to age out, and is THROTTLED when that passes the deadline', async () => {
    const budget = new UnitBudget({ units: 100, windowMs: 300 });
    const started = Date.now();
    (await budget.spend(60, {})).settled();
    (await budget.spend(40, {})).settled();
    expect(Date.now() - started).toBeLessThan(100);
    (await budget.spend(20, {})).settled();
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(budget.total).toBe(120);
    await expect(budget.spend(100, { deadline: Date.now() + 50 })).rejects.toMatchObject({ code: 'THROTTLED' });
    expect(budget.total).toBe(120);
  });

  it('a batch takes as many calls as fit now, not all or nothing: no room is left unused beside a small call', async () => {
    const budget = new UnitBudget({ units: 100, windowMs: 300 });
    // A 5-unit list spent first: four 20-unit gets fit beside it (95), a fifth waits.
    (await budget.spend(5, {})).settled();
    const started = Date.now();
    const four = await budget.spendSome([20, 20, 20, 20, 20, 20], {});
    four.settled();
    expect(four.count).toBe(4);
    expect(Date.now() - started).toBeLessThan(100);
    // The rest waits only until the first of them fits.
    expect((await budget.spendSome([20, 20], {})).count).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(budget.total).toBe(5 + 80 + 40);
    expect((await budget.spendSome([], {})).count).toBe(0);
  });

  it('units of a call in flight stay in the window until it is answered, then free up a window after the answer', async () => {
    const budget = new UnitBudget({ units: 10, windowMs: 200 });
    const spent = await budget.spend(10, {});
    // The call waits for a connection and takes 300 ms to answer, longer than the window: the
    // server may have charged it at any moment of those, so its units stay until the answer.
    const waiting = budget.spend(10, {});
    await new Promise((r) => setTimeout(r, 300));
    const answeredAt = Date.now();
    spent.settled();
    await waiting;
    // Dated at the request, they would have freed up at 200 ms; dated at the answer, 200 ms after it.
    expect(Date.now() - answeredAt).toBeGreaterThanOrEqual(190);
  });

  it('Ctrl-C ends a quota wait as INTERRUPTED', async () => {
    const budget = new UnitBudget({ units: 10, windowMs: 60_000 });
    (await budget.spend(10, {})).settled();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    await expect(budget.spend(5, { signal: controller.signal })).rejects.toMatchObject({ code: 'INTERRUPTED' });
  });
});

describe('Google answers', () => {
  it('429 and 403 rate limits are "slow down", with Retry-After or the time in the message; other 403s are not', () => {
    expect(rateLimitWait(429, { 'retry-after': '3' }, googleError(429, 'rateLimitExceeded'))).toBe(3000);
    const at = new Date(Date.now() + 5000).toISOString();
    const wait = rateLimitWait(429, {}, googleError(429, 'rateLimitExceeded', `User-rate limit exceeded.  Retry after ${at}`));
    expect(wait).toBeGreaterThan(3000);
    expect(wait).toBeLessThanOrEqual(5000);
    expect(rateLimitWait(403, {}, googleError(403, 'userRateLimitExceeded'))).toBeNull();
    expect(rateLimitWait(403, {}, googleError(403, 'insufficientPermissions'))).toBeUndefined();
    expect(rateLimitWait(404, {}, googleError(404, 'notFound'))).toBeUndefined();
  });

  it('errors map to the contract: scope 3, token 3, quota 4, not found 5, the rest 1', () => {
    expect(apiError(403, googleError(403, 'insufficientPermissions'), 'messages.batchModify', 'work')).toMatchObject({ code: 'INSUFFICIENT_SCOPE', exitCode: 3, hint: expect.stringContaining('mailops connect work --backend api') });
    expect(apiError(403, googleError(403, 'insufficientPermissions'), 'messages.batchDelete', 'work').hint).toMatch(/--scope-full/);
    expect(apiError(401, googleError(401, 'authError'), 'users.getProfile')).toMatchObject({ code: 'NEEDS_REAUTH', exitCode: 3 });
    expect(apiError(429, googleError(429, 'rateLimitExceeded'), 'messages.get')).toMatchObject({ code: 'THROTTLED', exitCode: 4 });
    expect(apiError(404, googleError(404, 'notFound'), 'messages.get')).toMatchObject({ exitCode: 5 });
    expect(apiError(500, Buffer.from('<html>oops</html>'), 'messages.get')).toMatchObject({ code: 'FAILED', exitCode: 1 });
  });

  it('MAILOPS_GMAIL_API_URL is a service root; anything but http(s) is refused', () => {
    expect(apiRoot(undefined)).toBe('https://gmail.googleapis.com');
    expect(apiRoot('https://127.0.0.1:8443/')).toBe('https://127.0.0.1:8443');
    expect(() => apiRoot('ftp://x')).toThrow(expect.objectContaining({ code: 'INVALID_VALUE' }));
  });

  it('reads a batch answer part by part, in order, bodies byte-exact', () => {
    const bodies = ['{"id":"a"}', '{"error":{"code":404}}', JSON.stringify({ raw: 'x'.repeat(5000) })];
    const rendered = renderBatch([
      { contentId: '0', response: { status: 200, headers: { 'Content-Type': 'application/json' }, body: Buffer.from(bodies[0]!) } },
      { contentId: '1', response: { status: 404, headers: {}, body: Buffer.from(bodies[1]!) } },
      { contentId: '2', response: { status: 200, headers: {}, body: Buffer.from(bodies[2]!) } },
    ]);
    const answers = parseBatchAnswer({ url: 'x', status: 200, statusText: 'OK', headers: { 'content-type': rendered.contentType }, body: rendered.body, truncated: false });
    expect(answers.map((a) => a.status)).toEqual([200, 404, 200]);
    expect(answers.map((a) => a.body.toString())).toEqual(bodies);
  });
});
