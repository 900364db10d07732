/**
 * Name resolution for every connection: diagnosis, discovery, the providers and HTTP. By default the
 * system's resolver (getaddrinfo for host names, so /etc/hosts counts; the
 * configured name servers for SRV and MX). MAILOPS_DNS_SERVERS points every
 * lookup at other name servers instead ("10.0.0.53", "127.0.0.1:5353",
 * "[::1]:53", comma-separated): for split-horizon DNS, and for the tests.
 * Then the address connected to is the one those servers gave, and TLS still
 * verifies the certificate against the host name.
 */
import { isIP, type LookupFunction } from 'node:net';
import { promises as dns } from 'node:dns';
import { MailopsError } from '../domain/errors.js';

export const DNS_SERVERS_ENV = 'MAILOPS_DNS_SERVERS';

export interface ResolvedHost {
  host: string;
  /** In the order they are tried. */
  addresses: Array<{ address: string; family: 4 | 6 }>;
  a: string[];
  aaaa: string[];
  /** How it was resolved: an address needs no lookup. */
  via: 'literal' | 'system' | 'servers';
}

/** A DNS failure with Node's code (ENOTFOUND, ESERVFAIL, ETIMEOUT, ...). */
export class DnsError extends Error {
  constructor(
    readonly code: string,
    readonly query: string,
  ) {
    super(`DNS ${code} for ${query}`);
    this.name = 'DnsError';
  }
}

export type DnsTrace = (line: string) => void;

export class DnsClient {
  private readonly resolver: InstanceType<typeof dns.Resolver>;

  private constructor(
    /** null: the system's configuration. */
    readonly servers: string[] | null,
    timeoutMs: number,
    private readonly trace: DnsTrace | null,
  ) {
    this.resolver = new dns.Resolver({ timeout: Math.max(100, Math.min(timeoutMs, 10_000)), tries: 2 });
    if (servers) {
      try {
        this.resolver.setServers(servers);
      } catch (err) {
        throw new MailopsError('INVALID_VALUE', `${DNS_SERVERS_ENV} is not a list of name servers: ${servers.join(',')}`, {
          hint: 'use addresses with optional ports, comma-separated: 10.0.0.53,127.0.0.1:5353,[::1]:53',
          cause: err,
        });
      }
    }
  }

  static fromEnv(env: NodeJS.ProcessEnv, timeoutMs: number, trace: DnsTrace | null = null): DnsClient {
    return new DnsClient(dnsServersFromEnv(env), timeoutMs, trace);
  }

  async resolveHost(host: string): Promise<ResolvedHost> {
    const family = isIP(host);
    if (family) return { host, addresses: [{ address: host, family: family as 4 | 6 }], a: family === 4 ? [host] : [], aaaa: family === 6 ? [host] : [], via: 'literal' };
    if (!this.servers) {
      const found = await dns.lookup(host, { all: true }).catch((err: NodeJS.ErrnoException) => {
        this.trace?.(`lookup ${host}: ${err.code ?? err.message}`);
        throw new DnsError(err.code ?? 'ENOTFOUND', host);
      });
      const addresses = found.map((f) => ({ address: f.address, family: (f.family === 6 ? 6 : 4) as 4 | 6 }));
      this.trace?.(`lookup ${host}: ${addresses.map((a) => a.address).join(', ') || 'no address'}`);
      return { host, addresses, a: pick(addresses, 4), aaaa: pick(addresses, 6), via: 'system' };
    }
    const [v4, v6] = await Promise.allSettled([this.query('A', host, () => this.resolver.resolve4(host)), this.query('AAAA', host, () => this.resolver.resolve6(host))]);
    const a = v4.status === 'fulfilled' ? v4.value : [];
    const aaaa = v6.status === 'fulfilled' ? v6.value : [];
    if (a.length + aaaa.length === 0) {
      // Report the more telling failure: "no such name" over "no AAAA record".
      const reasons = [v4, v6].map((r) => (r.status === 'rejected' ? (r.reason as DnsError).code : 'ENODATA'));
      throw new DnsError(reasons.find((c) => c !== 'ENODATA') ?? 'ENODATA', host);
    }
    // IPv4 first: a host without IPv6 connectivity would otherwise wait for a timeout first.
    const addresses = [...a.map((address) => ({ address, family: 4 as const })), ...aaaa.map((address) => ({ address, family: 6 as const }))];
    return { host, addresses, a, aaaa, via: 'servers' };
  }

  resolveSrv(name: string) {
    return this.query('SRV', name, () => (this.servers ? this.resolver.resolveSrv(name) : dns.resolveSrv(name)));
  }

  resolveMx(domain: string) {
    return this.query('MX', domain, () => (this.servers ? this.resolver.resolveMx(domain) : dns.resolveMx(domain)));
  }

  /** For net/tls/http: connections to host names go where this client resolves them. */
  get lookup(): LookupFunction | undefined {
    if (!this.servers) return undefined;
    return ((hostname: string, options: { all?: boolean; family?: number } | number, callback: (...args: unknown[]) => void) => {
      const all = typeof options === 'object' && options !== null && options.all === true;
      this.resolveHost(hostname).then(
        (resolved) => {
          if (all) callback(null, resolved.addresses);
          else callback(null, resolved.addresses[0]!.address, resolved.addresses[0]!.family);
        },
        (err: DnsError) => callback(Object.assign(new Error(`getaddrinfo ${err.code} ${hostname}`), { code: err.code, hostname })),
      );
    }) as LookupFunction;
  }

  private async query<T>(type: string, name: string, run: () => Promise<T>): Promise<T> {
    try {
      const answer = await run();
      this.trace?.(`${type} ${name}: ${JSON.stringify(answer)}`);
      return answer;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'ESERVFAIL';
      this.trace?.(`${type} ${name}: ${code}`);
      throw new DnsError(code, name);
    }
  }
}

function pick(addresses: ResolvedHost['addresses'], family: 4 | 6): string[] {
  return addresses.filter((a) => a.family === family).map((a) => a.address);
}

/** MAILOPS_DNS_SERVERS as a list, or null when unset. */
export function dnsServersFromEnv(env: NodeJS.ProcessEnv): string[] | null {
  const raw = env[DNS_SERVERS_ENV]?.trim();
  if (!raw) return null;
  return raw.split(/[\s,]+/).filter(Boolean);
}

/**
 * For the providers (imapflow, nodemailer): the address to connect to for a
 * host, when MAILOPS_DNS_SERVERS is set; null when the system resolver applies.
 */
export function hostResolverFromEnv(env: NodeJS.ProcessEnv, timeoutMs: number): ((host: string) => Promise<string>) | null {
  if (!dnsServersFromEnv(env)) return null;
  const client = DnsClient.fromEnv(env, timeoutMs);
  return async (host) => {
    const resolved = await client.resolveHost(host).catch((err: DnsError) => {
      // The providers' error mapping knows getaddrinfo's codes: no such name, or try again.
      const code = err.code === 'ENODATA' || err.code === 'ENOTFOUND' ? 'ENOTFOUND' : 'EAI_AGAIN';
      throw Object.assign(new Error(`getaddrinfo ${code} ${host}`), { code, hostname: host });
    });
    return resolved.addresses[0]!.address;
  };
}
