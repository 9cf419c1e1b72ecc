import http from 'node:http';
import https from 'node:https';

export interface DavHttpOptions {
  /** Extra trusted CA (the profile's act.caFile); the system's roots otherwise. */
  ca?: Buffer | undefined;
  /** How long a request may take from its start to the end of the response. */
  timeoutMs: number;
  /** Connections kept per host (the profile's act.maxConnections). */
  maxSockets: number;
}

/**
 * The fetch tsdav is given. Node's global fetch cannot take a CA or an agent without undici's
 * Agent class (not a dependency of ours), so this is a small fetch over node:https: the profile's
 * CA and Node's certificate checks (TLS is verified, never skipped), kept-alive connections
 * between cycles, a whole-request timeout, the runner's abort signal, and a count of requests (a
 * no-change cycle's cost is counted in tests and the benchmark). Errors keep Node's codes
 * (ECONNREFUSED, CERT_*, ...) for the classifier.
 */
export class DavHttp {
  requests = 0;
  readonly #o: DavHttpOptions;
  readonly #https: https.Agent;
  readonly #http: http.Agent;

  constructor(options: DavHttpOptions) {
    this.#o = options;
    this.#https = new https.Agent({ keepAlive: true, maxSockets: options.maxSockets, ...(options.ca ? { ca: options.ca } : {}) });
    this.#http = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets });
  }

  /** A fetch bound to one cycle's abort signal. */
  fetchFor(signal?: AbortSignal): typeof fetch {
    return (input, init) => this.#fetch(String(input instanceof Request ? input.url : input), init ?? {}, signal);
  }

  close(): void {
    this.#https.destroy();
    this.#http.destroy();
  }

  #fetch(url: string, init: RequestInit, signal: AbortSignal | undefined): Promise<Response> {
    this.requests++;
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, key) => { headers[key] = value; });
    const body = typeof init.body === 'string' ? Buffer.from(init.body) : undefined;
    if (body) headers['content-length'] = String(body.length);
    return new Promise<Response>((resolve, reject) => {
      const req = (secure ? https : http).request(target, {
        method: init.method ?? 'GET', headers, agent: secure ? this.#https : this.#http, signal,
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          clearTimeout(timer);
          const status = res.statusCode ?? 0;
          const out = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) out.set(k, Array.isArray(v) ? v.join(', ') : v);
          const noBody = status === 204 || status === 304 || status < 200;
          const response = new Response(noBody ? null : Buffer.concat(chunks), { status: status < 200 ? 502 : status, statusText: res.statusMessage ?? '', headers: out });
          // tsdav reads `url` to name the answering resource; a constructed Response has none.
          Object.defineProperty(response, 'url', { value: url });
          resolve(response);
        });
      });
      // One deadline for the whole exchange: a server that accepts and never answers is a transient
      // failure (server_unavailable), told apart from a connect failure by the socket's state.
      const timer = setTimeout(() => {
        const connected = req.socket !== null && !req.socket.connecting;
        req.destroy(Object.assign(new Error(`no answer from ${target.host} within ${this.#o.timeoutMs / 1_000} s`), connected
          ? { code: 'ETIMEDOUT', timeoutType: 'SOCKET_TIMEOUT' }
          : { code: 'CONNECT_TIMEOUT' }));
      }, this.#o.timeoutMs);
      req.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      req.end(body);
    });
  }
}
