#!/usr/bin/env node
// The floors of the sync benchmark, each run as its own process so its wall time and peak RSS
// compare with the tools'.
//
// First sync: log in, then pipeline EXAMINE and `UID FETCH 1:* BODY.PEEK[]` for every folder at
// once, and discard the bytes. Nothing a real sync could do is faster on the same connection.
//
// No change (`--no-change`): log in, one `LIST ... RETURN (STATUS ...)` of every folder (all a
// sync that finds nothing new must ask a CONDSTORE server), log out. Nothing else is loaded: what
// this costs is what any Node program pays to start, set up TLS and ask, the bound under every
// Node tool's no-change sync on this machine.
//
//   BENCH_IMAP='{"host","port","caFile","user"}' BENCH_IMAP_PASSWORD=... node floor.mjs FOLDER...
//   ... node floor.mjs --no-change
// Prints {"bytes": N} (literal bytes received) and, with --no-change, {"folders": N} (LIST answers).
import { RawImap, mailboxName } from './raw-imap.mjs';

const account = JSON.parse(process.env.BENCH_IMAP ?? '{}');
const client = await RawImap.open({ ...account, password: process.env.BENCH_IMAP_PASSWORD });
if (process.argv[2] === '--no-change') {
  const answers = await client.command('LIST "" "*" RETURN (STATUS (MESSAGES UIDNEXT UIDVALIDITY HIGHESTMODSEQ))', { keep: true });
  await client.logout();
  console.log(JSON.stringify({ folders: answers.filter((answer) => /^\* LIST /.test(answer.text)).length }));
} else {
  const pending = [];
  for (const folder of process.argv.slice(2)) {
    pending.push(client.command(`EXAMINE ${mailboxName(folder)}`));
    pending.push(client.command('UID FETCH 1:* BODY.PEEK[]'));
  }
  await Promise.all(pending);
  await client.logout();
  console.log(JSON.stringify({ bytes: client.literalBytes }));
}
