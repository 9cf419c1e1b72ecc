import { Resolver } from 'node:dns/promises';
import type { XMLParser } from 'fast-xml-parser';
import { ClassifiedError } from '../classify/index.js';
import type { Clock } from '../clock.js';
import type { Config, Security } from '../config/index.js';
import { lazyModule } from '../lazy.js';

// Loaded on first use: only a domain without SRV records reads autoconfig XML, and importing
// fast-xml-parser costs about 0.06 s of CPU at start-up (measured against bare node).
const xmlParser = lazyModule('fast-xml-parser', () => import('fast-xml-parser'));

export interface DiscoveredServer {
  host: string;
  port: number;
  security: Security;
  /** How it was found, for the status page and the logs. */
  source: 'srv' | 'autoconfig';
}

export interface AutodiscoverOptions {
  /** host:port of DNS servers for SRV lookups; the system's when empty. */
  dnsServers: string[];
  /** URL templates with {domain} and {address}, tried in order. */
  autoconfigUrls: string[];
  cacheMs: number;
  timeoutMs: number;
  clock: Clock;
}

/** DNS answers that mean "no such record", as opposed to "could not ask". */
const NEGATIVE = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN']);

/**
 * Finds a mailbox's IMAP server from its address: DNS SRV records (RFC 6186; implicit TLS
 * `_imaps._tcp` preferred over `_imap._tcp` as RFC 8314 recommends), then the autoconfig XML
 * convention. Answers are cached per domain. Nothing found is `mailbox_location_unknown`; a DNS
 * server that could not be asked at all (and no autoconfig answer) is `dns_failed`, which is transient.
 */
export class Autodiscover {
  readonly #o: AutodiscoverOptions;
  readonly #resolver = new Resolver({ tries: 2 });
  readonly #cache = new Map<string, { server: DiscoveredServer; expires: number }>();
  #xml: XMLParser | undefined;

  constructor(options: AutodiscoverOptions) {
    this.#o = options;
    if (options.dnsServers.length > 0) this.#resolver.setServers(options.dnsServers);
  }

  async discover(address: string): Promise<DiscoveredServer> {
    const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
    const cached = this.#cache.get(domain);
    if (cached && cached.expires > this.#o.clock.now()) return cached.server;
    const tried: string[] = [];
    let dnsUnreachable = false;
    const server = await this.#srv(domain, tried, () => { dnsUnreachable = true; })
      ?? await this.#autoconfig(domain, address, tried);
    if (!server) {
      const detail = `no IMAP server found for ${domain} (${tried.join('; ')})`;
      throw dnsUnreachable
        ? new ClassifiedError('dns_failed', `autodiscover: DNS could not be asked: ${detail}`)
        : new ClassifiedError('mailbox_location_unknown', `autodiscover: ${detail}`);
    }
    this.#cache.set(domain, { server, expires: this.#o.clock.now() + this.#o.cacheMs });
    return server;
  }

  /** C: one SRV lookup with the configured DNS servers (CalDAV/CardDAV's RFC 6764); null when none is offered. */
  async lookupSrv(name: string): Promise<{ host: string; port: number } | null> {
    try {
      const records = await withTimeout(this.#resolver.resolveSrv(name), this.#o.timeoutMs);
      const best = records.filter((r) => r.name !== '' && r.name !== '.').sort((a, b) => a.priority - b.priority || b.weight - a.weight)[0];
      return best ? { host: best.name, port: best.port } : null;
    } catch (error) {
      if (NEGATIVE.has((error as NodeJS.ErrnoException).code ?? '')) return null;
      throw new ClassifiedError('dns_failed', `DNS could not be asked for ${name}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }

  async #srv(domain: string, tried: string[], unreachable: () => void): Promise<DiscoveredServer | undefined> {
    for (const [service, security] of [['_imaps._tcp', 'tls'], ['_imap._tcp', 'starttls']] as const) {
      const name = `${service}.${domain}`;
      try {
        const records = await withTimeout(this.#resolver.resolveSrv(name), this.#o.timeoutMs);
        // RFC 2782: lowest priority first, then highest weight; target "." means "not offered here".
        const best = records
          .filter((r) => r.name !== '' && r.name !== '.')
          .sort((a, b) => a.priority - b.priority || b.weight - a.weight)[0];
        if (best) return { host: best.name, port: best.port, security, source: 'srv' };
        tried.push(`SRV ${name}: service not offered`);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? 'error';
        if (!NEGATIVE.has(code)) unreachable();
        tried.push(`SRV ${name}: ${code}`);
      }
    }
    return undefined;
  }

  async #autoconfig(domain: string, address: string, tried: string[]): Promise<DiscoveredServer | undefined> {
    for (const template of this.#o.autoconfigUrls) {
      const url = template.replaceAll('{domain}', domain).replaceAll('{address}', encodeURIComponent(address));
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(this.#o.timeoutMs), redirect: 'follow' });
        if (!response.ok) {
          tried.push(`${url}: HTTP ${response.status}`);
          continue;
        }
        const server = this.#parse(await this.#parser(), await response.text(), domain, address);
        if (server) return server;
        tried.push(`${url}: no usable IMAP server in the document`);
      } catch (error) {
        tried.push(`${url}: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}`);
      }
    }
    return undefined;
  }

  async #parser(): Promise<XMLParser> {
    const { XMLParser } = await xmlParser.load();
    return (this.#xml ??= new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', isArray: (name) => name === 'incomingServer' }));
  }

  /** Reads the first IMAP incomingServer of an autoconfig document (Mozilla's clientConfig format). */
  #parse(xml: XMLParser, text: string, domain: string, address: string): DiscoveredServer | undefined {
    let doc: unknown;
    try {
      doc = xml.parse(text);
    } catch {
      return undefined;
    }
    const servers = (doc as { clientConfig?: { emailProvider?: { incomingServer?: unknown[] } } })
      .clientConfig?.emailProvider?.incomingServer ?? [];
    for (const s of servers as { '@_type'?: string; hostname?: unknown; port?: unknown; socketType?: unknown }[]) {
      if (s['@_type'] !== 'imap' || typeof s.hostname !== 'string') continue;
      const port = Number(s.port);
      if (!Number.isInteger(port) || port < 1 || port > 65535) continue;
      const security = ({ SSL: 'tls', STARTTLS: 'starttls', plain: 'none' } as const)[String(s.socketType) as 'SSL'] ?? 'tls';
      const host = s.hostname.replaceAll('%EMAILDOMAIN%', domain).replaceAll('%EMAILADDRESS%', address);
      return { host, port, security, source: 'autoconfig' };
    }
    return undefined;
  }
}

/** Builds the autodiscover client from the config's `autodiscover` section. */
export function createAutodiscover(settings: Config['autodiscover'], clock: Clock): Autodiscover {
  return new Autodiscover({
    dnsServers: settings.dnsServers,
    autoconfigUrls: settings.autoconfigUrls,
    cacheMs: settings.cacheSeconds * 1_000,
    timeoutMs: settings.timeoutSeconds * 1_000,
    clock,
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no DNS answer within ${ms} ms`), { code: 'ETIMEOUT' })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
