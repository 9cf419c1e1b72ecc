import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { RequestListener } from 'node:http';
import { createServer, maxHeaderSize } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { clientCertProblem } from '../http/client-cert.js';
import type { TlsSettings } from '../http/web-config.js';

/** Why a listener could not be opened, in words an operator acts on. */
const LISTEN_ERRORS: Record<string, string> = {
  EADDRINUSE: 'the address is already in use (another process listens there)',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'this machine has no such address',
  ENOTFOUND: 'the host name does not resolve',
};

/**
 * How long a client may take. Node's defaults (60 s for the headers, 5 min for a request, checked
 * every 30 s) let a slow client hold a socket for minutes; a scrape or an API call sends its
 * headers at once, and the largest body (a queued email near sync.outgoing.maxEmailBytes) fits in
 * two minutes on any link that should reach an admin API.
 */
export interface Timeouts {
  headersMs: number;
  requestMs: number;
  checkEveryMs: number;
}
export const DEFAULT_TIMEOUTS: Timeouts = { headersMs: 10_000, requestMs: 120_000, checkEveryMs: 1_000 };

export interface ListenOptions {
  /** Serve HTTPS with these settings (web config tls_server_config); plain HTTP otherwise. */
  tls?: TlsSettings;
  timeouts?: Partial<Timeouts>;
}

export interface Listening {
  server: Server;
  url: string;
  /** New certificates, CA, versions or ciphers for the next connections (a reloaded web config). */
  updateTls(settings: TlsSettings): void;
  /** Stops accepting and closes every connection. */
  close(): Promise<void>;
}

/** Listens on `host:port` (server.listen); resolves with the server and its base URL. */
export function listen(handler: RequestListener, address: string, options: ListenOptions = {}): Promise<Listening> {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[|\]$/g, '') || '0.0.0.0';
  const port = Number(address.slice(i + 1));
  const t = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const serverOptions = { headersTimeout: t.headersMs, requestTimeout: t.requestMs, connectionsCheckingInterval: t.checkEveryMs };
  let tls = options.tls;
  const server: Server = tls
    ? createTlsServer({ ...serverOptions, ...tls.context, requestCert: tls.clientAuth !== 'NoClientCert', rejectUnauthorized: tls.clientAuth === 'RequireAndVerifyClientCert' }, handler)
    : createServer(serverOptions, handler);
  server.on('clientError', answerClientError);
  if (tls) {
    answerPlainHttp(server, t.headersMs);
    // Before the HTTP layer sees the connection: the checks Node's TLS options cannot express.
    server.prependListener('secureConnection', (socket: TLSSocket) => {
      const cert = socket.getPeerX509Certificate();
      if (tls && clientCertProblem(tls, cert !== undefined, socket.authorized, cert?.subjectAltName)) socket.destroy();
    });
  }
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(new Error(`server.listen ${address}: ${LISTEN_ERRORS[error.code ?? ''] ?? error.message}`)));
    server.listen(port, host, () => {
      const a = server.address() as AddressInfo;
      resolve({
        server,
        url: `${tls ? 'https' : 'http'}://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`,
        updateTls(settings) {
          if (!tls) return;
          (server as unknown as { setSecureContext: (o: TlsSettings['context']) => void }).setSecureContext(settings.context);
          tls = settings;
        },
        close: () => closeServer(server),
      });
    });
  });
}

/**
 * Plain HTTP sent to the HTTPS port gets a 400 that says so (as Go's servers answer), not a
 * dropped connection: the first byte of a TLS connection is a handshake record (0x16).
 */
function answerPlainHttp(server: Server, firstByteMs: number): void {
  const [tlsListener] = server.listeners('connection') as ((socket: Socket) => void)[];
  if (!tlsListener) return;
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    socket.setTimeout(firstByteMs, () => socket.destroy());
    socket.once('data', (chunk: Buffer) => {
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(chunk);
      if (chunk[0] === 0x16) tlsListener.call(server, socket);
      else writeAndClose(socket, '400 Bad Request', 'this port speaks HTTPS: the request was sent as plain HTTP\n');
    });
  });
}

/**
 * Requests Node refuses before any handler runs (headers over the limit, a malformed request
 * line, a client too slow to send its request). Node's own answer is a status line with an empty
 * body; say what was wrong instead.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const [status, text] = error.code === 'HPE_HEADER_OVERFLOW'
    ? ['431 Request Header Fields Too Large', `the request's headers are larger than ${maxHeaderSize} bytes\n`]
    : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? ['408 Request Timeout', 'the request did not arrive in time\n']
      : ['400 Bad Request', 'the request is not valid HTTP\n'];
  writeAndClose(socket, status, text);
}

function writeAndClose(socket: Duplex, status: string, text: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
}

function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  return closed;
}
