// The Microsoft Graph benchmark (`npm run bench -- graph`): `mailops sync` of a Graph account
// against the local Graph fake (test/support/graph-server.ts, compiled into .bench/) under
// Outlook's per-mailbox limits: 4 requests in flight, 10,000 requests per 10 minutes. The limit,
// not the machine, bounds a first sync, so the reference is the throttling floor: the requests the
// run needed divided by the requests the window allows.
//
//   (a) first sync of 10,000 messages over 8 folders: wall time against the floor (target
//       <= 1.1x), the requests refused (429) and the most in flight at once (target <= 4)
//   (b) a sync with no change: its requests (one delta per folder, and the folder list: the
//       top level and each folder with children)
//   (c) 100 new messages, 100 flag changes and 20 moves by another client: the requests, and the
//       MIME fetched (only the new messages': a move is not a refetch)
//   and the peak RSS of (a) (target <= 150 MB).
//
// Time is scaled: the fake's window and the client's (MAILOPS_GRAPH_RATE) are both 10,000
// requests per 600/BENCH_GRAPH_SPEEDUP seconds (default 20: 30 s). BENCH_GRAPH_LATENCY=MS adds a
// round trip to each request (default 2, so requests overlap and the 4-in-flight cap is what holds
// them); BENCH_GRAPH_MESSAGES=N changes the 10,000.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchMessage, compileBed } from './api-bed.mjs';
import { measureOk } from './measure.mjs';

const REQUESTS_PER_WINDOW = 10_000;
const TARGETS = { firstVsFloor: 1.1, inFlight: 4, rssMb: 150 };
const PASSPHRASE = 'bench passphrase';
const FOLDERS = ['Inbox', 'Archive', 'Inbox/Work', 'Inbox/Lists', 'Inbox/Lists/node-dev', 'Receipts', 'Travel', 'Sent Items'];

export async function graphBench(root) {
  const node = process.execPath;
  const load = compileBed(root, node);
  const { startGraphServer, GRAPH_SCOPES } = await load('test/support/graph-server.js');
  const { makeCa } = await load('test/support/certs.js');
  const { seedApiAccount } = await load('test/support/api-account.js');

  const speedup = Number(process.env.BENCH_GRAPH_SPEEDUP ?? 20);
  const windowMs = 600_000 / speedup;
  const count = Number(process.env.BENCH_GRAPH_MESSAGES ?? 10_000);
  const latencyMs = Number(process.env.BENCH_GRAPH_LATENCY ?? 2);
  const dir = mkdtempSync(join(tmpdir(), 'mailops-bench-graph-'));
  chmodSync(dir, 0o700);
  const ca = await makeCa(join(dir, 'ca'));
  const graph = await startGraphServer({ ca, latencyMs, throttle: { maxConcurrent: 4, requestsPerWindow: REQUESTS_PER_WINDOW, windowMs } });
  let ok = true;
  try {
    const email = 'bench@contoso.test';
    const box = graph.addUser(email);
    const folderIds = FOLDERS.map((path) => {
      const parts = path.split('/');
      const name = parts.pop();
      const existing = (() => {
        try {
          return box.folderByPath([...parts, name]);
        } catch {
          return null;
        }
      })();
      return (existing ?? box.addFolder(parts.length ? box.folderByPath(parts).id : 'msgfolderroot', name)).id;
    });
    const started = Date.now();
    for (let i = 0; i < count; i++) graph.addMessage(email, benchMessage(i, 'bench@contoso.test'), { folder: folderIds[i % folderIds.length], isRead: i % 3 !== 0, receivedDateTime: Date.UTC(2025, 0, 1) + i * 60_000 });
    const bytes = [...box.messages.values()].reduce((sum, m) => sum + m.raw.length, 0);
    console.log(`graph (mailbox: ${count} messages, ${(bytes / 1e6).toFixed(0)} MB, ${FOLDERS.length} folders; seeded in ${((Date.now() - started) / 1000).toFixed(1)} s; ${REQUESTS_PER_WINDOW} requests per ${windowMs / 1000} s, 4 in flight, time scaled ${speedup}x${latencyMs ? `, ${latencyMs} ms a request` : ''})`);

    const home = join(dir, 'home');
    mkdirSync(home, { mode: 0o700 });
    const scopes = [GRAPH_SCOPES.readWrite, GRAPH_SCOPES.send];
    await seedApiAccount(home, 'graph', { email, token: graph.token(email, scopes), scopes, passphrase: PASSPHRASE });
    const env = { PATH: process.env.PATH, HOME: home, MAILOPS_HOME: home, LANG: 'C.UTF-8', TZ: 'UTC', NO_COLOR: '1', MAILOPS_PASSPHRASE: PASSPHRASE, ...graph.env(), MAILOPS_GRAPH_RATE: `${REQUESTS_PER_WINDOW}/${windowMs / 1000}s` };
    const sync = async (expect) => {
      const result = await measureOk('mailops sync', node, [join(root, 'bin/mailops'), 'sync', '--json', '--timeout', '120'], { env, cwd: home });
      const summary = JSON.parse(result.stdout).accounts[0];
      if (summary.status !== 'ok') throw new Error(`mailops sync: ${result.stdout}`);
      for (const [key, value] of Object.entries(expect)) if (summary[key] !== value) throw new Error(`mailops sync: ${key} = ${summary[key]}, expected ${value}\n${result.stdout}`);
      return { ...result, summary };
    };
    const served = () => graph.requests({ user: email });
    const counted = (requests) => requests.filter((r) => r.api !== 'batch' && r.status !== 429);

    // (a) first sync
    graph.clearRequests();
    const first = await sync({ new: count });
    const requests = served();
    const needed = counted(requests).length;
    const refused = requests.filter((r) => r.status === 429).length;
    const floorS = (needed / REQUESTS_PER_WINDOW) * (windowMs / 1000);
    const ratio = first.wall / floorS;
    const inFlight = graph.maxInFlightSeen(email);
    console.log('  (a) first sync');
    console.log(`    ${needed} requests counted by the fake (${requests.filter((r) => r.api === 'messages.value').length} MIME, ${requests.filter((r) => r.api === 'messages.delta').length} delta pages), ${refused} refused (429), ${(first.summary.bytes / 1e6).toFixed(0)} MB`);
    console.log(`    wall ${first.wall.toFixed(2)} s, throttling floor ${floorS.toFixed(2)} s, peak RSS ${first.rssMb.toFixed(0)} MB, CPU ${first.cpu.toFixed(2)} s`);

    // (b) no change
    graph.clearRequests();
    await sync({ new: 0, updated: 0, deleted: 0 });
    const quiet = counted(served());
    const quietDeltas = quiet.filter((r) => r.api === 'messages.delta').length;
    const listed = spawnSync(node, [join(root, 'bin/mailops'), 'folders', '--offline', '--json'], { env, cwd: home, encoding: 'utf8' });
    const folderCount = JSON.parse(listed.stdout).folders.length;

    // (c) 100 new messages, 100 flag changes, 20 moves, by another client
    const ids = [...box.messages.keys()];
    for (let i = 0; i < 100; i++) box.update(box.message(ids[(i * 97) % ids.length]), { flagStatus: 'flagged', isRead: true });
    const travel = box.folder(folderIds[FOLDERS.indexOf('Travel')]);
    const archive = box.folder(folderIds[FOLDERS.indexOf('Archive')]);
    for (let i = 0; i < 20; i++) {
      const m = box.message(ids[(i * 389 + 7) % ids.length]);
      box.move(m, m.folderId === travel.id ? archive : travel);
    }
    for (let i = 0; i < 100; i++) graph.addMessage(email, benchMessage(count + i, 'bench@contoso.test'), { folder: folderIds[0] });
    graph.clearRequests();
    const changes = await sync({ new: 100 });
    const changeRequests = counted(served());
    const changeMime = changeRequests.filter((r) => r.api === 'messages.value').length;

    const line = (label, value, target, pass) => {
      ok &&= pass;
      console.log(`  ${label.padEnd(36)} ${value.padStart(10)}  (target ${target})  ${pass ? 'ok' : 'OVER'}`);
    };
    line('(a) mailops / throttling floor', `${ratio.toFixed(2)}x`, `<= ${TARGETS.firstVsFloor.toFixed(2)}x`, ratio <= TARGETS.firstVsFloor);
    line('(a) requests in flight at most', `${inFlight}`, `<= ${TARGETS.inFlight}`, inFlight <= TARGETS.inFlight);
    line('(b) requests of a no-change sync', `${quiet.length}`, `one delta per folder (${folderCount}) + the folder list`, quietDeltas === folderCount && quiet.every((r) => r.api !== 'messages.value'));
    console.log(`  (c) 100 new + 100 flags + 20 moves    ${String(changeRequests.length).padStart(10)} requests  (${changeMime} MIME: the new messages' 100; wall ${changes.wall.toFixed(2)} s)`);
    ok &&= changeMime === 100;
    line('peak RSS, first sync', `${first.rssMb.toFixed(0)} MB`, `<= ${TARGETS.rssMb} MB`, first.rssMb <= TARGETS.rssMb);
  } finally {
    await graph.stop().catch(() => undefined);
    if (process.env.BENCH_KEEP === '1') console.log(`  (kept ${dir})`);
    else rmSync(dir, { recursive: true, force: true });
  }
  return ok;
}

