import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestListener } from 'node:http';
import { createServer, maxHeaderSize } from 'node:http';
import type { Duplex } from 'node:stream';

/** Why a listener could not be opened, in words an operator acts on. */
const LISTEN_ERRORS: Record<string, string> = {
  EADDRINUSE: 'the address is already in use (another process listens there)',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'this machine has no such address',
  ENOTFOUND: 'the host name does not resolve',
};

/** Listens on `host:port` (server.listen); resolves with the server and its base URL. */
export function listen(handler: RequestListener, address: string): Promise<{ server: Server; url: string }> {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[|\]$/g, '') || '0.0.0.0';
  const port = Number(address.slice(i + 1));
  return new Promise((resolve, reject) => {
    const server = createServer(handler);
    server.on('clientError', answerClientError);
    server.once('error', (error: NodeJS.ErrnoException) => reject(new Error(`server.listen ${address}: ${LISTEN_ERRORS[error.code ?? ''] ?? error.message}`)));
    server.listen(port, host, () => {
      const a = server.address() as AddressInfo;
      resolve({ server, url: `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` });
    });
  });
}

/**
 * Requests Node refuses before any handler runs (headers over the limit, a malformed request
 * line). Node's own answer is a status line with an empty body; say what was wrong instead.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const [status, text] = error.code === 'HPE_HEADER_OVERFLOW'
    ? ['431 Request Header Fields Too Large', `the request's headers are larger than ${maxHeaderSize} bytes\n`]
    : ['400 Bad Request', 'the request is not valid HTTP\n'];
  socket.end(`HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
}
