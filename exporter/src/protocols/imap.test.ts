import { getEventListeners } from 'node:events';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../config/index.js';
import { createLogger } from '../log.js';
import { ImapSession, type ImapEndpoint } from './imap.js';

/** Just enough of an IMAP server to log in and out: every tagged command is answered OK. */
function fakeImapServer(): Server {
  return createServer((socket) => {
    socket.write('* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n');
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      let end: number;
      while ((end = buffered.indexOf('\r\n')) >= 0) {
        const [tag, command] = buffered.slice(0, end).split(' ');
        buffered = buffered.slice(end + 2);
        if (command?.toUpperCase() === 'CAPABILITY') socket.write('* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n');
        if (command?.toUpperCase() === 'LOGOUT') socket.write('* BYE\r\n');
        socket.write(`${tag} OK done\r\n`);
        if (command?.toUpperCase() === 'LOGOUT') socket.end();
      }
    });
    socket.on('error', () => undefined);
  });
}

const listen = (server: Server) => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));

describe('ImapSession.open and the stop signal', () => {
  const server = fakeImapServer();
  let port = 0;
  let closedPort = 0;
  beforeAll(async () => {
    port = await listen(server);
    const gone = createServer();
    closedPort = await listen(gone);
    await new Promise((resolve) => gone.close(resolve));
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const endpoint = (p: number): ImapEndpoint => ({
    host: '127.0.0.1', port: p, security: 'none', caFile: undefined, timeouts: { connectSeconds: 5, greetingSeconds: 5, socketSeconds: 5 },
  });
  const open = (p: number, signal: AbortSignal) => ImapSession.open(endpoint(p), { user: 'u', password: new Secret('pw', 'inline') },
    { allowNonTlsServers: true, allowCredentialsOverInsecureChannel: true }, createLogger('silent'), signal);

  it('leaves no listener on a long-lived signal after each connect, whether it succeeds or fails', async () => {
    const signal = new AbortController().signal;
    for (let i = 0; i < 12; i++) {
      const session = await open(port, signal);
      await session.close();
      await expect(open(closedPort, signal)).rejects.toThrow();
    }
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });
});
