/**
 * SMTP submission, step by step: greeting, EHLO (before and after STARTTLS),
 * the AUTH mechanisms offered, the login, and a dry run of the envelope
 * (MAIL FROM, RCPT TO, then RSET): nothing is sent.
 */
import type { ServerEndpoint } from '../domain/types.js';
import { recognizeAuthReply, recognizeEnvelopeReply, recognizeRefusedGreeting } from '../net/failures.js';
import { saslPlain, saslXoauth2 } from '../net/sasl.js';
import { startTlsInjection } from '../net/tls.js';
import { Stages, Stopped, readSmtpReply, trustOptions, type DiagnoseSettings, type SmtpReply } from './stages.js';
import type { ProtocolDiagnosis } from './types.js';
import type { Wire } from './wire.js';

async function send(wire: Wire, line: string, shown?: string): Promise<SmtpReply> {
  wire.write(line, shown);
  return readSmtpReply(wire);
}

/** The EHLO argument: an address literal of our end of the connection (no host name to trust). */
function ehloName(wire: Wire): string {
  const local = wire.current.localAddress ?? '127.0.0.1';
  const plain = local.replace(/^::ffff:/, '');
  return plain.includes(':') ? `[IPv6:${plain}]` : `[${plain}]`;
}

const extension = (ehlo: string[], name: string) => ehlo.find((l) => l.toUpperCase() === name || l.toUpperCase().startsWith(`${name} `) || l.toUpperCase().startsWith(`${name}=`));

export async function diagnoseSmtp(endpoint: ServerEndpoint, settings: DiagnoseSettings): Promise<ProtocolDiagnosis> {
  const st = new Stages('smtp', endpoint, settings);
  let wire: Wire | null = null;
  try {
    wire = await st.open();
    const open = wire;

    await st.step('greeting', async () => {
      const reply = await readSmtpReply(open).catch((err: unknown) => st.noGreeting(err));
      if (reply.code === 421 || reply.code === 554) st.fail(recognizeRefusedGreeting(reply.text), { said: reply.text });
      if (reply.code !== 220) st.fail('WRONG_PROTOCOL', { said: reply.text.slice(0, 200) });
      return { value: reply, detail: reply.lines.join(' ') };
    });

    const ehlo = async (name: string) =>
      st.step(name, async () => {
        const reply = await send(open, `EHLO ${ehloName(open)}`);
        if (reply.code !== 250) st.fail('COMMAND_FAILED', { said: reply.text, facts: { command: 'EHLO' } });
        const extensions = reply.lines.slice(1);
        return { value: extensions, detail: extensions.join(', ') || 'no extensions', data: { extensions } };
      });

    let extensions = await ehlo('ehlo');

    if (endpoint.tls === 'starttls') {
      await st.step('starttls', async () => {
        if (!extension(extensions, 'STARTTLS')) {
          const works = endpoint.port === 465 ? null : await st.tryMode('implicit', 465);
          st.fail('STARTTLS_MISSING', { works });
        }
        const reply = await send(open, 'STARTTLS');
        if (reply.code !== 220) st.fail('STARTTLS_REFUSED', { said: reply.text });
        const injected = startTlsInjection(open.pending);
        if (injected) st.fail('CONNECTION_CLOSED', { said: injected });
        return { value: undefined, detail: reply.text };
      });
      await st.tlsStep(() => open.upgrade(trustOptions(endpoint.host, settings.trust)));
      extensions = await ehlo('ehlo_after_starttls');
    }

    const credentials = settings.credentials;
    const mechanism = await st.step('auth_mechanisms', async () => {
      const auth = extension(extensions, 'AUTH');
      const offered = auth ? auth.slice(5).trim().toUpperCase().split(/\s+/).filter(Boolean) : [];
      if (!auth) {
        // Many servers offer AUTH only once TLS is up; a plain connection must not send a password then.
        if (credentials && endpoint.tls === 'none' && extension(extensions, 'STARTTLS')) {
          st.fail('STARTTLS_REQUIRED', { works: { tls: 'starttls', port: endpoint.port }, said: 'AUTH is not offered before STARTTLS' });
        }
        return { value: null, detail: 'no AUTH offered: the server takes mail without a login (or not at all)', data: { mechanisms: [] } };
      }
      if (!credentials) return { value: null, detail: offered.join(' '), data: { mechanisms: offered } };
      const wanted = credentials.kind === 'oauth2' ? ['XOAUTH2'] : ['PLAIN', 'LOGIN'];
      const chosen = wanted.find((m) => offered.includes(m));
      if (!chosen) st.fail('NO_AUTH_MECHANISM', { facts: { mechanisms: offered.join(' ') || 'none' } });
      return { value: chosen, detail: `${offered.join(' ')}; using AUTH ${chosen}`, data: { mechanisms: offered } };
    });

    if (!credentials) {
      // Without a login a submission server refuses the envelope anyway: nothing more to learn.
      st.skip('login', 'no password given');
      await send(open, 'QUIT').catch(() => undefined);
      return st.result();
    }
    if (mechanism) {
      await st.step('login', async () => {
        let reply: SmtpReply;
        if (credentials.kind === 'oauth2') {
          const token = saslXoauth2(credentials.user, await credentials.accessToken());
          reply = await send(open, `AUTH XOAUTH2 ${token}`, 'AUTH XOAUTH2 [REDACTED]');
          // On failure the server sends a 334 with an error JSON; an empty line ends the exchange.
          if (reply.code === 334) reply = await send(open, '');
        } else if (mechanism === 'PLAIN') {
          const plain = saslPlain(credentials.user, credentials.password);
          reply = await send(open, `AUTH PLAIN ${plain}`, 'AUTH PLAIN [REDACTED]');
        } else {
          reply = await send(open, 'AUTH LOGIN');
          if (reply.code === 334) reply = await send(open, Buffer.from(credentials.user).toString('base64'), '[REDACTED]');
          if (reply.code === 334) reply = await send(open, Buffer.from(credentials.password).toString('base64'), '[REDACTED]');
        }
        if (reply.code !== 235) st.fail(recognizeAuthReply({ protocol: 'smtp', text: reply.text, host: endpoint.host }), { said: reply.text });
        return { value: undefined, detail: `logged in as ${credentials.user} (AUTH ${mechanism})` };
      });
    }

    await st.step('mail_from', async () => {
      const reply = await send(open, `MAIL FROM:<${settings.email}>`);
      if (reply.code !== 250) st.fail(recognizeEnvelopeReply('mail', reply.text), { said: reply.text, facts: { sender: settings.email } });
      return { value: undefined, detail: `${settings.email}: ${reply.text}` };
    });
    await st.step('rcpt_to', async () => {
      const reply = await send(open, `RCPT TO:<${settings.recipient}>`);
      if (reply.code !== 250 && reply.code !== 251) {
        st.fail(recognizeEnvelopeReply('rcpt', reply.text), { said: reply.text, facts: { recipient: settings.recipient } });
      }
      return { value: undefined, detail: `${settings.recipient}: ${reply.text} (dry run: RSET, nothing sent)` };
    });
    await send(open, 'RSET').catch(() => undefined);
    await send(open, 'QUIT').catch(() => undefined);
  } catch (err) {
    if (!(err instanceof Stopped)) throw err;
  } finally {
    wire?.close();
  }
  return st.result();
}
