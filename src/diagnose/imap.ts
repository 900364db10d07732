/**
 * IMAP, step by step: greeting, capabilities (before and after STARTTLS and
 * login), the authentication mechanisms offered, the login, and a first
 * command (EXAMINE, the read-only SELECT: a diagnosis changes nothing).
 */
import { parseMailDate } from '../core/message/date.js';
import type { ServerEndpoint } from '../domain/types.js';
import { quoteMailbox, quoteString } from '../providers/imap/wire/utf7.js';
import { recognizeAuthReply, recognizeRefusedGreeting } from '../net/failures.js';
import { Stages, Stopped, type DiagnoseSettings } from './stages.js';
import { handshakeOptions } from './tls-report.js';
import type { MailboxMetrics, ProtocolDiagnosis } from './types.js';
import type { Wire } from './wire.js';

interface Reply {
  status: 'OK' | 'NO' | 'BAD' | 'BYE';
  /** The tagged line without the tag. */
  text: string;
  untagged: string[];
}

class ImapWire {
  private tag = 0;

  constructor(readonly wire: Wire) {}

  async command(line: string, shown?: string): Promise<Reply> {
    const tag = `d${++this.tag}`;
    this.wire.write(`${tag} ${line}`, shown === undefined ? undefined : `${tag} ${shown}`);
    return this.collect(tag);
  }

  /** AUTHENTICATE with one client response, sent after the server's continuation (or inline with SASL-IR). */
  async authenticate(mechanism: string, response: string, inline: boolean): Promise<Reply> {
    const tag = `d${++this.tag}`;
    if (inline) {
      this.wire.write(`${tag} AUTHENTICATE ${mechanism} ${response}`, `${tag} AUTHENTICATE ${mechanism} [REDACTED]`);
      return this.collect(tag);
    }
    this.wire.write(`${tag} AUTHENTICATE ${mechanism}`);
    const untagged: string[] = [];
    for (;;) {
      const line = await this.wire.readImapLine();
      if (line.startsWith('+')) {
        this.wire.write(response, '[REDACTED]');
        return this.collect(tag, untagged);
      }
      if (line.startsWith(`${tag} `)) return parseTagged(line.slice(tag.length + 1), untagged);
      untagged.push(line);
    }
  }

  private async collect(tag: string, untagged: string[] = []): Promise<Reply> {
    for (;;) {
      const line = await this.wire.readImapLine();
      if (line.startsWith(`${tag} `)) return parseTagged(line.slice(tag.length + 1), untagged);
      // A continuation to an AUTHENTICATE we already answered means the server wants more: give up on it.
      if (line.startsWith('+')) this.wire.write('*');
      else untagged.push(line);
    }
  }
}

function parseTagged(text: string, untagged: string[]): Reply {
  const status = /^(OK|NO|BAD|BYE)\b/i.exec(text)?.[1]?.toUpperCase() as Reply['status'] | undefined;
  return { status: status ?? 'BAD', text, untagged };
}

function capabilitiesIn(lines: string[]): string[] | null {
  for (const line of lines) {
    const bracket = /\[CAPABILITY ([^\]]*)\]/i.exec(line);
    if (bracket) return bracket[1]!.split(/\s+/).filter(Boolean);
    if (/^\* CAPABILITY /i.test(line)) return line.slice('* CAPABILITY '.length).split(/\s+/).filter(Boolean);
  }
  return null;
}

const has = (caps: string[], name: string) => caps.some((c) => c.toUpperCase() === name.toUpperCase());
const mechanismsOf = (caps: string[]) => caps.filter((c) => /^AUTH=/i.test(c)).map((c) => c.slice(5).toUpperCase());

/** "d3 NO [AUTHENTICATIONFAILED] Authentication failed." -> the words after the status. */
function serverWords(reply: Reply): string {
  return reply.text.replace(/^(OK|NO|BAD|BYE)\s*/i, '').replace(/\s*\(\d+\.\d+ \+ \d+\.\d+(?: \+ \d+\.\d+)? secs\)\.?$/, '').trim();
}

export async function diagnoseImap(endpoint: ServerEndpoint, settings: DiagnoseSettings): Promise<ProtocolDiagnosis> {
  const st = new Stages('imap', endpoint, settings);
  let wire: Wire | null = null;
  let mailbox: MailboxMetrics | undefined;
  try {
    wire = await st.open();
    const imap = new ImapWire(wire);
    const open = wire;

    const greeting = await st.step('greeting', async () => {
      const line = await open.readImapLine().catch((err: unknown) => st.noGreeting(err));
      if (/^\* BYE\b/i.test(line)) st.fail(recognizeRefusedGreeting(line), { said: line.slice(6) });
      if (!/^\* (OK|PREAUTH)\b/i.test(line)) st.fail('WRONG_PROTOCOL', { said: line.slice(0, 200) });
      return { value: line, detail: line.replace(/\[CAPABILITY [^\]]*\]\s*/i, '').slice(2) };
    });

    const readCapabilities = async (name: string, known: string[] | null) =>
      st.step(name, async () => {
        let caps = known;
        if (!caps) {
          const reply = await imap.command('CAPABILITY');
          caps = capabilitiesIn(reply.untagged) ?? [];
          if (reply.status !== 'OK') st.fail('COMMAND_FAILED', { said: serverWords(reply), facts: { command: 'CAPABILITY' } });
        }
        return { value: caps, detail: caps.join(' '), data: { capabilities: caps } };
      });

    let caps = await readCapabilities('capabilities', capabilitiesIn([greeting]));

    if (endpoint.tls === 'starttls') {
      await st.step('starttls', async () => {
        if (!has(caps, 'STARTTLS')) {
          const works = endpoint.port === 993 ? null : await st.tryMode('implicit', 993);
          st.fail('STARTTLS_MISSING', { works });
        }
        const reply = await imap.command('STARTTLS');
        if (reply.status !== 'OK') st.fail('STARTTLS_REFUSED', { said: serverWords(reply) });
        // Anything the server sent before the handshake could be an injection (CVE-2011-0411 style).
        if (open.pending) st.fail('CONNECTION_CLOSED', { said: 'the server sent data after the STARTTLS reply, before the handshake' });
        return { value: undefined, detail: serverWords(reply) || 'OK' };
      });
      await st.tlsStep(() => open.upgrade(handshakeOptions(endpoint.host, settings.trust)));
      caps = await readCapabilities('capabilities_after_starttls', null);
    }

    const credentials = settings.credentials;
    const mechanism = await st.step('auth_mechanisms', async () => {
      const offered = mechanismsOf(caps);
      const loginDisabled = has(caps, 'LOGINDISABLED');
      const listed = `${offered.join(' ') || 'no AUTH= mechanisms'}${loginDisabled ? '; LOGINDISABLED' : '; LOGIN command allowed'}`;
      if (!credentials) return { value: null, detail: listed, data: { mechanisms: offered, login_disabled: loginDisabled } };
      if (credentials.kind === 'oauth2') {
        if (offered.includes('XOAUTH2')) return { value: 'XOAUTH2', detail: `${listed}; using XOAUTH2`, data: { mechanisms: offered } };
        st.fail('NO_AUTH_MECHANISM', { facts: { mechanisms: offered.join(' ') || 'none' } });
      }
      if (loginDisabled && endpoint.tls === 'none') {
        const works = has(caps, 'STARTTLS') ? { tls: 'starttls' as const, port: endpoint.port } : await st.tryMode('implicit', 993);
        st.fail('LOGIN_DISABLED', { works }, { mechanisms: offered });
      }
      const chosen = offered.includes('PLAIN') ? 'PLAIN' : !loginDisabled ? 'LOGIN' : null;
      if (!chosen) st.fail('NO_AUTH_MECHANISM', { facts: { mechanisms: [...offered, ...(loginDisabled ? ['LOGINDISABLED'] : [])].join(' ') || 'none' } });
      return { value: chosen, detail: `${listed}; using ${chosen === 'PLAIN' ? 'AUTHENTICATE PLAIN' : 'LOGIN'}`, data: { mechanisms: offered, login_disabled: loginDisabled } };
    });

    if (!credentials || !mechanism) {
      st.skip('login', 'no password given');
    } else {
      const afterLogin = await st.step('login', async () => {
        let reply: Reply;
        if (mechanism === 'LOGIN' && credentials.kind === 'password') {
          reply = await imap.command(`LOGIN ${quoteString(credentials.user)} ${quoteString(credentials.password)}`, `LOGIN ${quoteString(credentials.user)} [REDACTED]`);
        } else {
          const payload =
            credentials.kind === 'password'
              ? Buffer.from(`\0${credentials.user}\0${credentials.password}`, 'utf8').toString('base64')
              : Buffer.from(`user=${credentials.user}\x01auth=Bearer ${await credentials.accessToken()}\x01\x01`, 'utf8').toString('base64');
          reply = await imap.authenticate(mechanism, payload, has(caps, 'SASL-IR'));
        }
        if (reply.status !== 'OK') {
          const words = serverWords(reply);
          const code = recognizeAuthReply({ protocol: 'imap', text: words, host: endpoint.host, greeting });
          st.fail(code, { said: words });
        }
        return {
          value: capabilitiesIn([reply.text, ...reply.untagged]),
          detail: `logged in as ${credentials.user} (${mechanism === 'LOGIN' ? 'LOGIN' : `AUTHENTICATE ${mechanism}`})`,
        };
      });
      caps = await readCapabilities('capabilities_after_login', afterLogin);

      mailbox = await st.step('select', async () => {
        const reply = await imap.command(`EXAMINE ${quoteMailbox(settings.folder)}`);
        if (reply.status !== 'OK') {
          const words = serverWords(reply);
          const missing = /\[NONEXISTENT\]|doesn't exist|does not exist|not found|unknown mailbox|no such/i.test(words);
          st.fail(missing ? 'FOLDER_NOT_FOUND' : 'COMMAND_FAILED', { said: words, facts: { folder: settings.folder, command: `EXAMINE ${settings.folder}` } });
        }
        const exists = Number(reply.untagged.map((l) => /^\* (\d+) EXISTS/i.exec(l)?.[1]).find(Boolean) ?? 0);
        return { value: { folder: settings.folder, messages: exists, unseen: 0, oldest_unseen_age_s: null }, detail: `EXAMINE ${settings.folder}: ${exists} messages` };
      });

      if (settings.metrics) {
        mailbox = await st.step('unseen', async () => {
          const search = await imap.command('UID SEARCH UNSEEN');
          if (search.status !== 'OK') st.fail('COMMAND_FAILED', { said: serverWords(search), facts: { command: 'UID SEARCH UNSEEN' } });
          const uids = search.untagged.flatMap((l) => (/^\* SEARCH\b/i.test(l) ? l.slice(8).trim().split(/\s+/).filter(Boolean) : []));
          let oldest: number | null = null;
          if (uids.length > 0) {
            const fetch = await imap.command(`UID FETCH ${uids.join(',')} (INTERNALDATE)`);
            for (const line of fetch.untagged) {
              const date = /INTERNALDATE "([^"]+)"/i.exec(line)?.[1];
              const time = parseMailDate(date)?.getTime() ?? NaN;
              if (!Number.isNaN(time)) oldest = oldest === null ? time : Math.min(oldest, time);
            }
          }
          const age = oldest === null ? null : Math.max(0, Math.round((Date.now() - oldest) / 1000));
          const value = { ...mailbox!, unseen: uids.length, oldest_unseen_age_s: age };
          return { value, detail: `${uids.length} unseen${age === null ? '' : `, the oldest arrived ${age} s ago`}` };
        });
      }
      await imap.command('LOGOUT').catch(() => undefined);
    }
  } catch (err) {
    if (!(err instanceof Stopped)) throw err;
  } finally {
    wire?.close();
  }
  return { ...st.result(), ...(mailbox ? { mailbox } : {}) };
}
