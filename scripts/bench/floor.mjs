#!/usr/bin/env node
// The floor of the sync benchmark: log in, then pipeline EXAMINE and `UID FETCH 1:* BODY.PEEK[]`
// for every folder at once, and discard the bytes. Nothing a real sync could do is faster on the
// same connection. Run as its own process so its wall time and peak RSS compare with the tools'.
//
//   BENCH_IMAP='{"host","port","caFile","user"}' BENCH_IMAP_PASSWORD=... node floor.mjs FOLDER...
// Prints {"bytes": N} (literal bytes received).
import { RawImap, mailboxName } from './raw-imap.mjs';

const account = JSON.parse(process.env.BENCH_IMAP ?? '{}');
const client = await RawImap.open({ ...account, password: process.env.BENCH_IMAP_PASSWORD });
const pending = [];
for (const folder of process.argv.slice(2)) {
  pending.push(client.command(`EXAMINE ${mailboxName(folder)}`));
  pending.push(client.command('UID FETCH 1:* BODY.PEEK[]'));
}
await Promise.all(pending);
await client.logout();
console.log(JSON.stringify({ bytes: client.literalBytes }));
