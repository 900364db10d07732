// The conformance harness for the Microsoft Graph backend: the local Graph fake over HTTPS
// (test/support/graph-server.ts). Setup and truth go straight to the fake's mailboxes, independent
// of mailops' own code; the CLI talks to the fake through MAILOPS_GRAPH_URL.
//
// Accounts are written into their MAILOPS_HOME the way `connect --provider outlook --backend api`
// leaves them (test/support/api-account.ts), without the browser consent: that flow is connect's
// to test (test/e2e/graph-cli.test.ts). The token is the fake's own, valid for the run.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import { makeCa } from '../support/certs.js';
import { seedApiAccount } from '../support/api-account.js';
import { makeHome, runCli, type CliOptions } from '../support/cli.js';
import { GRAPH_SCOPES, startGraphServer, type GraphServer } from '../support/graph-server.js';
import type { StoredFolder, StoredMessage } from '../support/graph/mailbox.js';
import { PASSPHRASE } from '../e2e/helpers.js';
import type { BackendHarness, ConformanceAccount, SeedMessage } from './harness.js';

export function graphHarness(): BackendHarness {
  let graph: GraphServer;
  let users = 0;

  return {
    name: 'graph (Microsoft Graph fake)',
    folders: { inbox: 'Inbox', sent: 'Sent Items', trash: 'Deleted Items', archive: 'Archive' },
    lacks: { answered: 'Microsoft Graph keeps no answered state' },
    sentCopy: 'provider',

    async setUp() {
      const runDir = inject('mailBed')?.tmpDir;
      const parent = join(runDir ?? '/tmp', 'conformance');
      mkdirSync(parent, { recursive: true });
      const ca = await makeCa(mkdtempSync(join(parent, 'graph-ca-')));
      // Graph's own limits: four in flight per mailbox, 10,000 requests per 10 minutes.
      graph = await startGraphServer({ ca });
    },

    async tearDown() {
      await graph?.stop();
    },

    async newAccount(label) {
      const email = `${label}-${++users}@contoso.test`;
      graph.addUser(email);
      const home = makeHome();
      const scopes = [GRAPH_SCOPES.readWrite, GRAPH_SCOPES.send];
      await seedApiAccount(home, 'graph', { email, token: graph.token(email, scopes), scopes, passphrase: PASSPHRASE });
      const cli = (args: string[], opts: CliOptions = {}) =>
        runCli(args, { home, timeoutMs: 60_000, ...opts, env: { MAILOPS_PASSPHRASE: PASSPHRASE, ...graph.env(), ...opts.env } });
      return graphAccount(graph, email, cli);
    },
  };
}

function graphAccount(graph: GraphServer, email: string, cli: ConformanceAccount['cli']): ConformanceAccount {
  const box = () => graph.mailbox(email);
  /** A path as `folders` prints it ("Inbox/Projects"); the default folders by their display names. */
  const folderOf = (path: string): StoredFolder => box().folderByPath(path.split('/'));
  const messageIdOf = (m: StoredMessage) => /^Message-ID:[ \t]*(\S+)/im.exec(m.raw.toString('latin1'))?.[1] ?? '';
  const find = (path: string, messageId: string): StoredMessage | undefined => box().inFolder(folderOf(path).id).find((m) => messageIdOf(m) === messageId);
  const must = (path: string, messageId: string): StoredMessage => {
    const m = find(path, messageId);
    if (!m) throw new Error(`${messageId} is not in ${path}`);
    return m;
  };
  const add = (path: string, m: SeedMessage) =>
    box().add(m.raw, { folder: folderOf(path).id, isRead: m.flags?.seen ?? false, flagged: m.flags?.flagged ?? false, receivedDateTime: m.date });

  return {
    address: email,
    cli,
    async seed(folder, messages) {
      for (const m of messages) add(folder, m);
    },
    async createFolder(path) {
      const parts = path.split('/');
      const name = parts.pop()!;
      box().addFolder(parts.length ? folderOf(parts.join('/')).id : 'msgfolderroot', name);
    },
    async setFlags(folder, messageId, change) {
      const m = must(folder, messageId);
      // `answered` has no Graph property: nothing to set.
      box().update(m, {
        ...(change.seen !== undefined ? { isRead: change.seen } : {}),
        ...(change.flagged !== undefined ? { flagStatus: change.flagged ? 'flagged' : 'notFlagged' } : {}),
      });
    },
    async expunge(folder, messageId) {
      box().remove(must(folder, messageId));
    },
    async move(from, messageId, to) {
      box().move(must(from, messageId), folderOf(to));
    },
    async deliver(m) {
      add('Inbox', m);
    },
    async flags(folder, messageId) {
      const m = find(folder, messageId);
      return m && { seen: m.isRead, flagged: m.flagStatus === 'flagged', answered: false };
    },
    async messageIds(folder) {
      return box().inFolder(folderOf(folder).id).map(messageIdOf).sort();
    },
  };
}
