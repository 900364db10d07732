/**
 * IMAP, step by step: greeting, capabilities (before and after STARTTLS and
 * login), the authentication mechanisms offered, the login, and a first
 * command (EXAMINE, the read-only SELECT: a diagnosis changes nothing).
 */
import type { ServerEndpoint } from '../domain/types.js';
import { recognizeAuthReply, recognizeRefusedGreeting } from '../net/failures.js';
import { authMechanisms, capabilitiesOf, hasCapability as has } from '../net/imap/capabilities.js';
import { parseInternalDate } from '../net/imap/internal-date.js';
import { fetchAttributes, text, type Tagged, type Untagged } from '../net/imap/response.js';
import { quoteMailbox, quoteString } from '../net/imap/utf7.js';
import { saslPlain, saslXoauth2 } from '../net/sasl.js';
import { startTlsInjection } from '../net/tls.js';
import { Stages, Stopped, trustOptions, type DiagnoseSettings } from './stages.js';
import type { MailboxMetrics, ProtocolDiagnosis } from './types.js';
import type { Wire } from './wire.js';

interface Reply {
  status: Tagged['status'];
  /** The server's words after the status: the response code in brackets, then the text. */
  text: string;
  untagged: Untagged[];
  tagged: Tagged;
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
    const untagged: Untagged[] = [];
    for (;;) {
      const next = await this.wire.readImapResponse();
      if (next.type === 'continuation') {
        this.wire.write(response, '[REDACTED]');
        return this.collect(tag, untagged);
      }
      if (next.type === 'tagged' && next.tag === tag) return reply(next, untagged);
      if (next.type === 'untagged') untagged.push(next);
    }
  }

  private async collect(tag: string, untagged: Untagged[] = []): Promise<Reply> {
    for (;;) {
      const next = await this.wire.readImapResponse();
      if (next.type === 'tagged' && next.tag === tag) return reply(next, untagged);
      // A continuation to an AUTHENTICATE we already answered means the server wants more: give up on it.
      if (next.type === 'continuation') this.wire.write('*');
      else if (next.type === 'untagged') untagged.push(next);
    }
  }
}

function reply(tagged: Tagged, untagged: Untagged[]): Reply {
  return { status: tagged.status, text: `${tagged.code ? `[${tagged.code}] ` : ''}${tagged.text}`, untagged, tagged };
}

/** The capabilities the first of these responses states, or null. */
function capabilitiesIn(responses: Array<Untagged | Tagged>): string[] | null {
  for (const r of responses) {
    const found = capabilitiesOf(r);
    if (found) return found;
  }
  return null;
}

/** "d3 NO [AUTHENTICATIONFAILED] Authentication failed." -> the words after the status. */
function serverWords(reply: Reply): string {
  return reply.text.replace(/\s*\(\d+\.\d+ \+ \d+\.\d+(?: \+ \d+\.\d+)? secs\)\.?$/, '').trim();
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
      const first = await open.readImapResponse().catch((err: unknown) => st.noGreeting(err));
      if (first.type === 'untagged' && first.kind === 'BYE') return st.fail(recognizeRefusedGreeting(first.text), { said: first.text });
      if (first.type !== 'untagged' || (first.kind !== 'OK' && first.kind !== 'PREAUTH')) return st.fail('WRONG_PROTOCOL', { said: open.lastServerLine.slice(0, 200) });
      return { value: first, detail: `${first.kind} ${first.text.replace(/\[CAPABILITY [^\]]*\]\s*/i, '')}` };
    });
    const greetingLine = `* ${greeting.kind} ${greeting.text}`;

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
        const injected = startTlsInjection(open.pending);
        if (injected) st.fail('CONNECTION_CLOSED', { said: injected });
        return { value: undefined, detail: serverWords(reply) || 'OK' };
      });
      await st.tlsStep(() => open.upgrade(trustOptions(endpoint.host, settings.trust)));
      caps = await readCapabilities('capabilities_after_starttls', null);
    }

    const credentials = settings.credentials;
    const mechanism = await st.step('auth_mechanisms', async () => {
      const offered = authMechanisms(caps);
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
          const payload = credentials.kind === 'password' ? saslPlain(credentials.user, credentials.password) : saslXoauth2(credentials.user, await credentials.accessToken());
          reply = await imap.authenticate(mechanism, payload, has(caps, 'SASL-IR'));
        }
        if (reply.status !== 'OK') {
          const words = serverWords(reply);
          const code = recognizeAuthReply({ protocol: 'imap', text: words, host: endpoint.host, greeting: greetingLine });
          st.fail(code, { said: words });
        }
        return {
          value: capabilitiesIn([reply.tagged, ...reply.untagged]),
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
        const exists = reply.untagged.find((r) => r.kind === 'EXISTS')?.number ?? 0;
        return { value: { folder: settings.folder, messages: exists, unseen: 0, oldest_unseen_age_s: null }, detail: `EXAMINE ${settings.folder}: ${exists} messages` };
      });

      if (settings.metrics) {
        mailbox = await st.step('unseen', async () => {
          const search = await imap.command('UID SEARCH UNSEEN');
          if (search.status !== 'OK') st.fail('COMMAND_FAILED', { said: serverWords(search), facts: { command: 'UID SEARCH UNSEEN' } });
          const uids = search.untagged.flatMap((r) => (r.kind === 'SEARCH' ? r.text.split(/\s+/).filter(Boolean) : []));
          let oldest: number | null = null;
          if (uids.length > 0) {
            const fetch = await imap.command(`UID FETCH ${uids.join(',')} (INTERNALDATE)`);
            for (const r of fetch.untagged) {
              if (r.kind !== 'FETCH') continue;
              const time = parseInternalDate(text(fetchAttributes(r.segments).get('INTERNALDATE')))?.getTime() ?? NaN;
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
