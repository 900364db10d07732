// The Gmail API benchmark (`npm run bench -- gmail`): `mailops sync` of a Gmail API account
// against the local Gmail fake (test/support/gmail-server.ts, compiled into .bench/) under
// Google's quota table (6,000 units a minute per user; messages.get 20, messages.list 5,
// history.list 2). The quota, not the machine, is the limit, so the reference is the quota floor:
// the units a run needs divided by the units a minute allows.
//
//   (a) first sync of 10,000 messages: wall time against the floor (target <= 1.1x), and the
//       share of requests the fake refused for the quota (target < 1%)
//   (b) a sync with no change: the requests it made (target: one history.list)
//   (c) 100 new messages and 100 label changes: units spent, against the units the new
//       messages need (proportional to the changes, not to the mailbox)
//   and the peak RSS of (a) (target <= 150 MB).
//
// Time is scaled so the run takes seconds, not half an hour: the fake's window and the client's
// (MAILOPS_GMAIL_QUOTA) are both 6,000 units per 1/BENCH_GMAIL_SPEEDUP of a minute (default 20:
// three seconds, about 100 s for the first sync). The ratios hold while the round trips stay
// small beside the window: at 60x (a one-second window) a batch's answer time is a tenth of it and
// the ratio reads higher than a real minute would give. BENCH_GMAIL_MESSAGES=N changes the 10,000.
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchMessage, compileBed } from './api-bed.mjs';
import { measureOk } from './measure.mjs';

const UNITS_PER_MINUTE = 6000;
const TARGETS = { firstVsFloor: 1.1, throttledShare: 0.01, noChangeRequests: 1, rssMb: 150 };
const PASSPHRASE = 'bench passphrase';

export async function gmailBench(root) {
  const node = process.execPath;
  const load = compileBed(root, node);
  const { startGmailServer, SCOPES } = await load('test/support/gmail-server.js');
  const { makeCa } = await load('test/support/certs.js');
  const { seedGmailApiAccount } = await load('test/support/gmail-account.js');

  const speedup = Number(process.env.BENCH_GMAIL_SPEEDUP ?? 20);
  const windowMs = 60_000 / speedup;
  const count = Number(process.env.BENCH_GMAIL_MESSAGES ?? 10_000);
  const dir = mkdtempSync(join(tmpdir(), 'mailops-bench-gmail-'));
  chmodSync(dir, 0o700);
  const ca = await makeCa(join(dir, 'ca'));
  const gmail = await startGmailServer({ ca, quota: { unitsPerWindow: UNITS_PER_MINUTE, windowMs } });
  let ok = true;
  try {
    const email = 'bench@gmail.test';
    gmail.addUser(email);
    const labels = ['Work', 'Lists/node-dev', 'Receipts'].map((name) => gmail.addLabel(email, name));
    const started = Date.now();
    for (let i = 0; i < count; i++) gmail.addMessage(email, benchMessage(i, 'bench@gmail.test'), { labelIds: labelsFor(i, labels), internalDate: Date.UTC(2025, 0, 1) + i * 60_000 });
    const bytes = [...gmail.mailbox(email).messages.values()].reduce((sum, m) => sum + m.raw.length, 0);
    console.log(`gmail (mailbox: ${count} messages, ${(bytes / 1e6).toFixed(0)} MB, 3 user labels; seeded in ${((Date.now() - started) / 1000).toFixed(1)} s; quota ${UNITS_PER_MINUTE} units per ${windowMs / 1000} s, time scaled ${speedup}x)`);

    const home = join(dir, 'home');
    mkdirSync(home, { mode: 0o700 });
    await seedGmailApiAccount(home, { email, token: gmail.token(email, [SCOPES.full]), scopes: [SCOPES.full], passphrase: PASSPHRASE });
    const env = { PATH: process.env.PATH, HOME: home, MAILOPS_HOME: home, LANG: 'C.UTF-8', TZ: 'UTC', NO_COLOR: '1', MAILOPS_PASSPHRASE: PASSPHRASE, ...gmail.env(), MAILOPS_GMAIL_QUOTA: `${UNITS_PER_MINUTE}/${windowMs / 1000}s` };
    const sync = async (expect) => {
      const result = await measureOk('mailops sync', node, [join(root, 'bin/mailops'), 'sync', '--json', '--timeout', '120'], { env, cwd: home });
      const summary = JSON.parse(result.stdout).accounts[0];
      if (summary.status !== 'ok') throw new Error(`mailops sync: ${result.stdout}`);
      for (const [key, value] of Object.entries(expect)) if (summary[key] !== value) throw new Error(`mailops sync: ${key} = ${summary[key]}, expected ${value}\n${result.stdout}`);
      return { ...result, summary };
    };

    // (a) first sync
    gmail.clearRequests();
    const first = await sync({ new: count });
    const requests = gmail.requests({ user: email });
    const throttled = requests.filter((r) => r.status === 429).length;
    const units = gmail.unitsSpent(email);
    const floorS = (units / UNITS_PER_MINUTE) * (windowMs / 1000);
    const ratio = first.wall / floorS;
    console.log('  (a) first sync');
    console.log(`    ${first.summary.quota_units} units spent (the fake counted ${units}), ${requests.length} requests (${throttled} refused for the quota), ${(first.summary.bytes / 1e6).toFixed(0)} MB`);
    console.log(`    wall ${first.wall.toFixed(2)} s, quota floor ${floorS.toFixed(2)} s, peak RSS ${first.rssMb.toFixed(0)} MB, CPU ${first.cpu.toFixed(2)} s`);

    // (b) no change
    gmail.clearRequests();
    await sync({ new: 0, updated: 0, deleted: 0 });
    const quiet = gmail.requests({ user: email }).map((r) => r.api);

    // (c) 100 new messages and 100 label changes, by another client
    const box = gmail.mailbox(email);
    const ids = [...box.messages.keys()];
    for (let i = 0; i < 100; i++) box.modify(ids[(i * 97) % ids.length], [labels[i % labels.length], 'STARRED'], ['UNREAD']);
    for (let i = 0; i < 100; i++) gmail.addMessage(email, benchMessage(count + i, 'bench@gmail.test'), { labelIds: ['INBOX', 'UNREAD'] });
    gmail.clearRequests();
    const changes = await sync({ new: 100 });
    const changeUnits = gmail.unitsSpent(email);
    const newOnly = 100 * 20;

    const line = (label, value, target, pass) => {
      ok &&= pass;
      console.log(`  ${label.padEnd(34)} ${value.padStart(10)}  (target ${target})  ${pass ? 'ok' : 'OVER'}`);
    };
    line('(a) mailops / quota floor', `${ratio.toFixed(2)}x`, `<= ${TARGETS.firstVsFloor.toFixed(2)}x`, ratio <= TARGETS.firstVsFloor);
    line('(a) requests refused for the quota', `${((throttled / requests.length) * 100).toFixed(2)}%`, `< ${TARGETS.throttledShare * 100}%`, throttled / requests.length < TARGETS.throttledShare);
    line('(b) requests of a no-change sync', `${quiet.length}`, `${TARGETS.noChangeRequests} (history.list)`, quiet.length === 1 && quiet[0] === 'history.list');
    console.log(`  (c) 100 new + 100 label changes    ${String(changeUnits).padStart(10)} units  (${(changeUnits / newOnly).toFixed(2)}x the ${newOnly} the new messages' bodies need; wall ${changes.wall.toFixed(2)} s)`);
    line('peak RSS, first sync', `${first.rssMb.toFixed(0)} MB`, `<= ${TARGETS.rssMb} MB`, first.rssMb <= TARGETS.rssMb);
  } finally {
    await gmail.stop().catch(() => undefined);
    if (process.env.BENCH_KEEP === '1') console.log(`  (kept ${dir})`);
    else rmSync(dir, { recursive: true, force: true });
  }
  return ok;
}

/** INBOX, a user label for a third, two for some, UNREAD for a quarter. */
function labelsFor(i, labels) {
  const out = ['INBOX'];
  if (i % 3 === 0) out.push(labels[i % labels.length]);
  if (i % 7 === 0) out.push(labels[(i + 1) % labels.length]);
  if (i % 4 === 0) out.push('UNREAD');
  return out;
}
