import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import { listen } from './listen.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** Sends raw bytes and reads the whole answer (the server closes the connection). */
function raw(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(request));
    let answer = '';
    socket.on('data', (chunk) => { answer += chunk.toString(); });
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('listen', () => {
  it('answers headers over the limit with a 431 that says why, not an empty body', async () => {
    const started = await listen((_req, res) => res.end('ok'), '127.0.0.1:0');
    server = started.server;
    const answer = await raw(started.url, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(answer).toMatch(/headers are larger than \d+ bytes/);
  });

  it('answers a request that is not HTTP with a 400 that says so', async () => {
    const started = await listen((_req, res) => res.end('ok'), '127.0.0.1:0');
    server = started.server;
    expect(await raw(started.url, 'NOT HTTP\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 [\s\S]*not valid HTTP/);
  });

  it('names the address when it cannot listen', async () => {
    const first = await listen((_req, res) => res.end('ok'), '127.0.0.1:0');
    server = first.server;
    const taken = first.url.replace('http://', '');
    await expect(listen((_req, res) => res.end('ok'), taken)).rejects.toThrow(`server.listen ${taken}: the address is already in use (another process listens there)`);
  });
});
