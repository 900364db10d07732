/**
 * Finding an address's IMAP and SMTP servers, the way mail clients do, in
 * order of trust: the domain's autoconfig document, its RFC 6186 / RFC 8314
 * SRV records, a provider recognized by its MX records (Google, Microsoft),
 * and last the common host names, probed (implicit TLS before STARTTLS, as
 * RFC 8314 recommends). Every source is recorded with what it said, for
 * `connect --explain`.
 */
import type { ServerEndpoint, TlsMode } from '../../domain/types.js';
import type { DnsClient, DnsError } from '../../net/dns.js';
import type { MailProtocol } from '../../net/failures.js';
import { MailopsError } from '../../domain/errors.js';
import { request } from '../../net/http.js';
import { probeEndpoint, type TraceSink } from '../stages.js';
import type { TrustSettings } from '../tls-report.js';
import { autoconfigUrls, parseAutoconfig, type AutoconfigDocument, type AutoconfigServer } from './autoconfig.js';
import { providerForMx, type KnownProvider } from './providers.js';

export type SourceKind = 'autoconfig' | 'srv' | 'mx' | 'probe';

export interface DiscoveredServer extends ServerEndpoint {
  source: SourceKind;
  /** The login name the source gives (autoconfig), if any. */
  user: string | null;
}

export interface SourceReport {
  source: SourceKind;
  /** The URL or DNS name asked. */
  query: string;
  found: boolean;
  /** What it said, in a few words. */
  said: string;
  ms: number;
}

export interface Discovery {
  email: string;
  domain: string;
  imap: DiscoveredServer | null;
  smtp: DiscoveredServer | null;
  /** A provider recognized by MX, if any (its OAuth flavour may suit the account better). */
  provider: KnownProvider['name'] | null;
  sources: SourceReport[];
}

export interface DiscoveryOptions {
  env: NodeJS.ProcessEnv;
  dns: DnsClient;
  trust: TrustSettings;
  timeoutMs: number;
  signal: AbortSignal;
  trace: TraceSink | null;
  /** Which protocols to look for (a flag may have given the other). */
  want: { imap: boolean; smtp: boolean };
}

const SRV: Record<MailProtocol, Array<{ service: string; tls: TlsMode }>> = {
  imap: [
    { service: '_imaps._tcp', tls: 'implicit' },
    { service: '_imap._tcp', tls: 'starttls' },
  ],
  smtp: [
    { service: '_submissions._tcp', tls: 'implicit' },
    { service: '_submission._tcp', tls: 'starttls' },
  ],
};

const PROBES: Record<MailProtocol, { prefixes: string[]; ports: Array<{ port: number; tls: TlsMode }> }> = {
  imap: { prefixes: ['imap.', 'mail.', ''], ports: [{ port: 993, tls: 'implicit' }, { port: 143, tls: 'starttls' }] },
  smtp: { prefixes: ['smtp.', 'mail.', ''], ports: [{ port: 465, tls: 'implicit' }, { port: 587, tls: 'starttls' }] },
};

export async function discover(email: string, options: DiscoveryOptions): Promise<Discovery> {
  const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
  const result: Discovery = { email, domain, imap: null, smtp: null, provider: null, sources: [] };
  const protocols = (['imap', 'smtp'] as const).filter((p) => options.want[p]);

  // The network sources are independent: ask them all at once, then take them in order of trust.
  const [autoconfig, srv, mx] = await Promise.all([
    askAutoconfig(email, domain, options),
    Promise.all(protocols.map(async (p) => [p, await askSrv(p, domain, options)] as const)),
    askMx(domain, options),
  ]);
  result.sources.push(...autoconfig.reports, ...srv.flatMap(([, s]) => s.reports), mx.report);
  result.provider = mx.provider?.name ?? null;

  for (const protocol of protocols) {
    const fromSrv = srv.find(([p]) => p === protocol)?.[1].server ?? null;
    // A plain-text server (socketType PLAIN) is reported, never chosen: it would carry the password in the clear.
    const fromAutoconfig = usable(autoconfig.document?.[protocol]);
    result[protocol] =
      (fromAutoconfig ? { ...fromAutoconfig, source: 'autoconfig' as const } : null) ??
      fromSrv ??
      (mx.provider ? { ...mx.provider[protocol], source: 'mx' as const, user: null } : null);
  }

  for (const protocol of protocols) {
    if (result[protocol]) continue;
    const probed = await probeCommonNames(protocol, domain, options);
    result.sources.push(...probed.reports);
    result[protocol] = probed.server;
  }
  return result;
}

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await run();
  return { value, ms: Date.now() - started };
}

async function askAutoconfig(email: string, domain: string, o: DiscoveryOptions): Promise<{ document: AutoconfigDocument | null; reports: SourceReport[] }> {
  const urls = autoconfigUrls(o.env, email, domain);
  const http = { timeoutMs: Math.min(o.timeoutMs, 10_000), lookup: o.dns.lookup, trace: o.trace, signal: o.signal };
  const answers = await Promise.all(
    urls.map((url) =>
      timed(async () => {
        try {
          const response = await request(http, { url, maxBytes: 256 * 1024 });
          if (response.status !== 200) return { document: null, said: `HTTP ${response.status}` };
          const document = parseAutoconfig(response.body.toString('utf8'), email);
          if (!document) return { document: null, said: 'not a clientConfig document' };
          return { document, said: describeDocument(document) };
        } catch (err) {
          return { document: null, said: errorText(err) };
        }
      }),
    ),
  );
  const reports = answers.map((a, i) => ({ source: 'autoconfig' as const, query: urls[i]!, found: usable(a.value.document?.imap) !== null || usable(a.value.document?.smtp) !== null, said: a.value.said, ms: a.ms }));
  // The first URL in order that has a document wins, whatever answered first.
  const document = answers.find((a) => a.value.document)?.value.document ?? null;
  return { document, reports };
}

/** An autoconfig server that may be chosen: one with TLS. */
function usable(server: AutoconfigServer | null | undefined): AutoconfigServer | null {
  return server && server.tls !== 'none' ? server : null;
}

function describeDocument(d: AutoconfigDocument): string {
  const one = (label: string, s: AutoconfigDocument['imap']) =>
    s ? `${label} ${s.host}:${s.port} ${s.tls === 'none' ? 'plain text, not used' : s.tls}${s.user ? ` (user ${s.user})` : ''}` : `no ${label}`;
  return `${one('IMAP', d.imap)}; ${one('SMTP', d.smtp)}`;
}

async function askSrv(protocol: MailProtocol, domain: string, o: DiscoveryOptions): Promise<{ server: DiscoveredServer | null; reports: SourceReport[] }> {
  const reports: SourceReport[] = [];
  const usable: Array<{ record: { name: string; port: number; priority: number; weight: number }; tls: TlsMode; order: number }> = [];
  await Promise.all(
    SRV[protocol].map(async ({ service, tls }, order) => {
      const name = `${service}.${domain}`;
      const { value, ms } = await timed(async () => {
        try {
          const records = await o.dns.resolveSrv(name);
          // RFC 2782: a target of "." says the service is not offered.
          const offered = records.filter((r) => r.name && r.name !== '.' && r.port > 0);
          for (const record of offered) usable.push({ record, tls, order });
          if (records.length > 0 && offered.length === 0) return { found: false, said: 'not offered (target ".")' };
          return { found: offered.length > 0, said: offered.map((r) => `${r.name}:${r.port} priority ${r.priority} weight ${r.weight}`).join(', ') };
        } catch (err) {
          return { found: false, said: errorText(err) };
        }
      });
      reports[order] = { source: 'srv', query: name, ...value, ms };
    }),
  );
  // RFC 6186: lowest priority first, then highest weight; RFC 8314: implicit TLS over STARTTLS at equal priority.
  usable.sort((a, b) => a.record.priority - b.record.priority || a.order - b.order || b.record.weight - a.record.weight);
  const best = usable[0];
  const server = best ? { host: best.record.name.replace(/\.$/, ''), port: best.record.port, tls: best.tls, source: 'srv' as const, user: null } : null;
  return { server, reports };
}

async function askMx(domain: string, o: DiscoveryOptions): Promise<{ provider: KnownProvider | null; report: SourceReport }> {
  const { value, ms } = await timed(async () => {
    try {
      const records = (await o.dns.resolveMx(domain)).sort((a, b) => a.priority - b.priority);
      const provider = records.map((r) => providerForMx(r.exchange)).find(Boolean) ?? null;
      const list = records.map((r) => `${r.exchange} (${r.priority})`).join(', ');
      return { provider, found: provider !== null, said: provider ? `${list}: ${provider.label}` : `${list || 'no MX'}: no known provider` };
    } catch (err) {
      return { provider: null, found: false, said: errorText(err) };
    }
  });
  return { provider: value.provider, report: { source: 'mx', query: domain, found: value.found, said: value.said, ms } };
}

async function probeCommonNames(protocol: MailProtocol, domain: string, o: DiscoveryOptions): Promise<{ server: DiscoveredServer | null; reports: SourceReport[] }> {
  const { prefixes, ports } = PROBES[protocol];
  const candidates = prefixes.flatMap((prefix) => ports.map((p) => ({ host: `${prefix}${domain}`, ...p })));
  // Probed together (each is a short connection); the first in order that answers wins.
  const outcomes = await Promise.all(
    candidates.map((c) =>
      timed(async () => {
        let address: string;
        try {
          address = (await o.dns.resolveHost(c.host)).addresses[0]!.address;
        } catch (err) {
          return { works: null, said: errorText(err) };
        }
        const trace = o.trace ? (direction: 'C' | 'S' | '*', line: string) => o.trace!(protocol, direction, line) : null;
        const works = await probeEndpoint({ protocol, host: c.host, address, port: c.port, mode: c.tls, trust: o.trust, timeoutMs: o.timeoutMs, signal: o.signal, trace });
        const said = works === null ? `no ${protocol.toUpperCase()} server answered (${c.tls === 'implicit' ? 'implicit TLS' : 'plain text'})` : `${protocol.toUpperCase()} answers, ${works === 'none' ? 'without STARTTLS' : works}`;
        return { works, said };
      }),
    ),
  );
  const reports = outcomes.map((o2, i) => ({ source: 'probe' as const, query: `${candidates[i]!.host}:${candidates[i]!.port}`, found: o2.value.works !== null && o2.value.works !== 'none', said: o2.value.said, ms: o2.ms }));
  // A plain-text server without STARTTLS is reported, never chosen: it would carry the password in the clear.
  const index = outcomes.findIndex((o2) => o2.value.works !== null && o2.value.works !== 'none');
  const chosen = index >= 0 ? candidates[index]! : null;
  return { server: chosen ? { host: chosen.host, port: chosen.port, tls: outcomes[index]!.value.works!, source: 'probe', user: null } : null, reports };
}

function errorText(failure: unknown): string {
  // The HTTP client's errors carry the socket's (ECONNREFUSED, ENODATA...) as their cause: that is the fact to show.
  if (failure instanceof MailopsError && failure.cause === undefined) return failure.message;
  const err = failure instanceof MailopsError ? failure.cause : failure;
  if (err && typeof err === 'object' && 'code' in err && typeof (err as DnsError).code === 'string') {
    const code = (err as DnsError).code;
    return code === 'ENOTFOUND' ? 'no such name' : code === 'ENODATA' ? 'no record' : code;
  }
  return err instanceof Error ? err.message : String(err);
}
