// The round-trip benchmark (`npm run bench -- rtt`): mailops sync against mbsync and the raw IMAP
// floor when the server is a round trip away, on the sync benchmark's bed (scripts/bench/sync.mjs:
// the test bed's Dovecot, a generated mailbox, the same runs and checks).
//
// The issue asks for Dovecot in a network namespace behind a veth pair with `tc netem` delay. This
// machine's kernel has no netem (nor fq, nor modules to load), so the delay is made in user space:
// scripts/bench/delay-proxy.mjs, a TCP proxy on 127.0.0.1 in front of Dovecot's IMAPS port that
// holds every chunk for RTT/2 each way, in order, with a 1.5 RTT handshake and a 4 MB window a
// direction. All three tools connect to the proxy's port (TLS passes through it as bytes), and
// it counts their round trips ("turns": a client sending after the server last answered it).
//
// For each RTT (BENCH_RTT_MS, default 20,80) and mailbox (BENCH_RTT_MESSAGES, default
// 10000,50000; 10,000 is the sync benchmark's ~700 MB `mixed` mailbox, larger ones its `small`
// profile of 3-10 KB messages, as its 50,000 is):
//   (a) first sync: floor (best of 2), mbsync, mailops
//   (b) no change: mbsync, mailops (median of 3)
//   (c) 100 new messages + 100 flag changes: mbsync, mailops (median of 3 rounds)
// Targets: (b) and (c) mailops / mbsync <= 1.00x at 20 ms; (a) mailops / floor <= 1.5x, and
// mailops' peak RSS <= 100 MB (at every setting). The defaults take about 8 minutes on 2 busy
// cores; should a setting start more than 11 minutes into the section, it gets (a) only,
// measured once, and says so, to keep the section under a quarter of an hour
// (BENCH_RTT_FULL=1: everything everywhere regardless).
// Environment as the sync benchmark: BENCH_NO_BUILD=1, BENCH_KEEP=1.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startDelayProxy, selfCheck } from './delay-proxy.mjs';
import { FOLDERS } from './mailbox.mjs';
import { ensureCommand } from './measure.mjs';
import { mbsyncConfig } from './mbsync.mjs';
import {
  HEADER, applyChanges, bestOf, mailboxFor, mailopsHome, mb, median, medianOf, prepare, row, runFloor, runMailops, runMbsync, serverCounts, viaImap,
} from './sync.mjs';

const BUDGET_MIN = 11;
const TARGETS = { changesVsMbsyncAt20: 1, noChangeVsMbsyncAt20: 1, firstVsFloor: 1.5, rssMb: 100 };
const list = (value, fallback) => (value ?? fallback).split(',').map((v) => Number(v.trim())).filter((v) => v > 0);

export async function rttBench(root) {
  const node = process.execPath;
  const rtts = list(process.env.BENCH_RTT_MS, '20,80');
  const sizes = list(process.env.BENCH_RTT_MESSAGES, '10000,50000');
  const full = process.env.BENCH_RTT_FULL === '1';
  ensureCommand('mbsync', 'isync');
  ensureCommand('/usr/bin/time', 'time');

  // The delay itself first: a result on a proxy that does not delay would mean nothing.
  const failures = await selfCheck({ rttMs: 20 });
  if (failures.length) throw new Error(`delay proxy self-check failed: ${failures.join('; ')}`);

  prepare(root, node);
  const { startDovecot } = await import(pathToFileURL(join(root, '.bench/test/support/dovecot.js')).href);
  const { startSmtp } = await import(pathToFileURL(join(root, '.bench/test/support/smtp.js')).href);
  const { makeCa } = await import(pathToFileURL(join(root, '.bench/test/support/certs.js')).href);

  const dir = mkdtempSync(join(tmpdir(), 'mailops-bench-rtt-'));
  chmodSync(dir, 0o755);
  const ca = await makeCa(join(dir, 'ca'));
  const dovecot = await startDovecot({ dir: join(dir, 'dovecot'), ca });
  const smtp = await startSmtp({ dovecot, ca, dir: join(dir, 'smtp') });
  const ctx = { root, node, dir, dovecot, smtp };
  const proxy = await startDelayProxy({ targetHost: dovecot.host, targetPort: dovecot.imapsPort, rttMs: rtts[0] });
  const started = Date.now();
  const results = [];
  try {
    console.log(
      `rtt (Dovecot ${rtts.map((r) => `${r} ms`).join(' and ')} round trip away: a user-space delay proxy, scripts/bench/delay-proxy.mjs, ` +
        'as this kernel has no netem; self-check passed)',
    );
    console.log(`  machine: ${cpus().length} cores, load average ${loadavg()[0].toFixed(2)} at the start${loadavg()[0] > 1 ? ' (other work is running: wall times are noisy)' : ''}`);
    for (const size of sizes) {
      const profile = size > 20_000 ? 'small' : 'mixed';
      const mailbox = await mailboxFor(ctx, `rtt${size}`, { count: size, profile, seed: 20250101 + size });
      console.log(
        `  mailbox: ${mailbox.count} ${profile} messages, ${mb(mailbox.bytes)} MB in ${FOLDERS.length} folders (generated in ${mailbox.generateS.toFixed(1)} s, indexed in ${mailbox.warmS.toFixed(1)} s, untimed)`,
      );
      // What the server holds now: (c) adds 100 messages a round, for the next setting's (a).
      const state = { count: mailbox.count, bytes: mailbox.bytes };
      const account = viaImap(mailbox.account, { host: proxy.host, port: proxy.port });
      for (const rtt of rtts) {
        proxy.rttMs = rtt;
        // A guard for slow machines: past BUDGET_MIN into the section, a setting gets (a) only.
        const onlyFirst = !full && (Date.now() - started) / 60000 > BUDGET_MIN;
        const result = await runSetting(ctx, proxy, { mailbox, state, account, rtt, size, onlyFirst });
        results.push(result);
        report(result);
      }
    }
    console.log(`  load average at the end: ${loadavg()[0].toFixed(2)}; the section took ${((Date.now() - started) / 60000).toFixed(1)} min`);
    return verdicts(results);
  } finally {
    await proxy.close().catch(() => undefined);
    await smtp.stop().catch(() => undefined);
    await dovecot.stop().catch(() => undefined);
    if (process.env.BENCH_KEEP === '1') console.log(`  (kept ${dir})`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

/** One RTT on one mailbox: (a), and unless onlyFirst (b) and (c); each run with its round trips. */
async function runSetting(ctx, proxy, { mailbox, state, account, rtt, size, onlyFirst }) {
  const rows = [];
  const counted = (run) => async () => {
    const before = proxy.stats();
    const result = await run();
    const after = proxy.stats();
    return { ...result, turns: after.turns - before.turns, connections: after.connections - before.connections };
  };
  const tag = `${size}-${rtt}`;
  const home = await mailopsHome(ctx, account, `mailops-${tag}`);
  const mbsyncDir = join(ctx.dir, `mbsync-${tag}`);
  const mbsync = mbsyncConfig(mbsyncDir, account, { fsync: true });
  const expected = await serverCounts(mailbox.account);

  // (a) first sync
  const floor = await bestOf(onlyFirst ? 1 : 2, counted(() => runFloor(ctx, account, state.bytes)));
  rows.push({ scenario: 'a', tool: 'floor', ...floor, bytes: state.bytes });
  rows.push({ scenario: 'a', tool: 'mbsync', ...(await counted(() => runMbsync(mbsync, expected))()), bytes: state.bytes });
  rows.push({ scenario: 'a', tool: 'mailops', ...(await counted(() => runMailops(ctx, home, { new: state.count }))()), bytes: state.bytes });
  // The opt-in second-core writer (MAILOPS_SYNC_WRITER=thread), in a home of its own: shown, not judged.
  const threaded = await mailopsHome(ctx, account, `mailops-thread-${tag}`);
  rows.push({ scenario: 'a', tool: 'mailops (thread)', ...(await counted(() => runMailops(ctx, threaded, { new: state.count }, { MAILOPS_SYNC_WRITER: 'thread' }))()), bytes: state.bytes });

  if (!onlyFirst) {
    // (b) no change
    rows.push({ scenario: 'b', tool: 'mbsync', ...(await medianOf(3, counted(() => runMbsync(mbsync, expected)))), bytes: 0 });
    rows.push({ scenario: 'b', tool: 'mailops', ...(await medianOf(3, counted(() => runMailops(ctx, home, { new: 0, updated: 0 })))), bytes: 0 });

    // (c) the same 100 new + 100 flag changes for both, three rounds of fresh ones
    const rounds = { mbsync: [], mailops: [] };
    let changedBytes = 0;
    for (let round = 0; round < 3; round++) {
      changedBytes = await applyChanges(ctx, mailbox, 100 * rtt + 7 + round);
      state.count += 100;
      state.bytes += changedBytes;
      const after = await serverCounts(mailbox.account);
      rounds.mbsync.push(await counted(() => runMbsync(mbsync, after))());
      rounds.mailops.push(await counted(() => runMailops(ctx, home, { new: 100, updated: 100 }))());
    }
    rows.push({ scenario: 'c', tool: 'mbsync', ...median(rounds.mbsync), bytes: changedBytes });
    rows.push({ scenario: 'c', tool: 'mailops', ...median(rounds.mailops), bytes: changedBytes });
  }
  // The next setting starts from nothing again.
  rmSync(home, { recursive: true, force: true });
  rmSync(mbsyncDir, { recursive: true, force: true });
  return { rtt, size, rows, onlyFirst };
}

const TURN_HEADER = `${HEADER} ${'round trips'.padStart(12)} ${'conns'.padStart(6)} ${'trips/folder'.padStart(13)}`;

function turnRow(r) {
  return `${row(r.tool, r, r.bytes)} ${String(r.turns).padStart(12)} ${String(r.connections).padStart(6)} ${(r.turns / FOLDERS.length).toFixed(1).padStart(13)}`;
}

function report({ rtt, size, rows, onlyFirst }) {
  console.log(`  RTT ${rtt} ms, ${size} messages${onlyFirst ? ` ((a) only, measured once: the section had run over ${BUDGET_MIN} minutes)` : ''}`);
  const titles = { a: '(a) first sync', b: '(b) no change (median of 3)', c: '(c) 100 new messages, 100 flag changes (median of 3 rounds)' };
  for (const [scenario, title] of Object.entries(titles)) {
    const these = rows.filter((r) => r.scenario === scenario);
    if (!these.length) continue;
    console.log(`   ${title}`);
    console.log(TURN_HEADER);
    for (const r of these) console.log(turnRow(r));
  }
}

/** A ratio to two places, or three where two would hide which side of the target it is on. */
function shownRatio(value, target) {
  const two = value.toFixed(2);
  return `${Number(two) === target && value !== target ? value.toFixed(3) : two}x`;
}

function verdicts(results) {
  console.log(`  round trips: counted by the proxy over all of a run's connections (a turn: the client sends after the server last sent to it; each connection's handshake is one); trips/folder: over the ${FOLDERS.length} folders`);
  const checks = [];
  for (const { rtt, size, rows } of results) {
    const find = (scenario, tool) => rows.find((r) => r.scenario === scenario && r.tool === tool);
    const at = `${rtt} ms, ${size}`;
    const ratio = (a, b) => a.wall / b.wall;
    for (const scenario of ['b', 'c']) {
      const mo = find(scenario, 'mailops');
      const ms = find(scenario, 'mbsync');
      if (!mo || !ms) continue;
      const value = ratio(mo, ms);
      const targeted = rtt === 20;
      checks.push({ label: `(${scenario}) mailops / mbsync, ${at}`, shown: shownRatio(value, 1), target: targeted ? '<= 1.00x at 20 ms' : 'none', pass: targeted ? value <= 1 : null });
    }
    const value = ratio(find('a', 'mailops'), find('a', 'floor'));
    checks.push({ label: `(a) mailops / floor, ${at}`, shown: shownRatio(value, TARGETS.firstVsFloor), target: `<= ${TARGETS.firstVsFloor.toFixed(2)}x`, pass: value <= TARGETS.firstVsFloor });
    const peak = Math.max(...rows.filter((r) => r.tool === 'mailops').map((r) => r.rssMb));
    checks.push({ label: `mailops peak RSS, ${at}`, shown: `${peak.toFixed(0)} MB`, target: `<= ${TARGETS.rssMb} MB`, pass: peak <= TARGETS.rssMb });
    const threaded = find('a', 'mailops (thread)');
    if (threaded) checks.push({ label: `(a) ... MAILOPS_SYNC_WRITER=thread`, shown: shownRatio(ratio(threaded, find('a', 'floor')), TARGETS.firstVsFloor), target: `opt-in, shown only; peak RSS ${threaded.rssMb.toFixed(0)} MB`, pass: null });
    const trips = ['a', 'b', 'c']
      .filter((s) => find(s, 'mailops'))
      .map((s) => `(${s}) mailops ${(find(s, 'mailops').turns / FOLDERS.length).toFixed(1)} / mbsync ${(find(s, 'mbsync').turns / FOLDERS.length).toFixed(1)}`);
    checks.push({ label: `round trips per folder, ${at}`, shown: '', target: null, pass: null, note: trips.join(', ') });
  }
  for (const check of checks) {
    if (check.target === null) {
      console.log(`  ${check.label.padEnd(34)} ${check.note}`);
      continue;
    }
    const verdict = check.pass === null ? '' : check.pass ? 'ok' : 'OVER TARGET';
    console.log(`  ${check.label.padEnd(34)} ${check.shown.padStart(7)}  (target ${check.target})  ${verdict}`);
  }
  return checks.every((check) => check.pass !== false);
}
