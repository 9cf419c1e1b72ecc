import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FaultProxy } from './fault-proxy.js';
import { waitFor } from './wait.js';

/**
 * The proxy's latency fault against a real echo server: bytes are held, not lost, and pass in
 * order (bench:scale puts it in front of Dovecot to model a distant server).
 */
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function echoBehindProxy(): Promise<{ proxy: FaultProxy; client: net.Socket; received: () => string; serverGot: () => number }> {
  let serverGot = 0;
  const server = net.createServer((socket) => socket.on('data', (chunk: Buffer) => {
    serverGot += chunk.length;
    socket.write(chunk);
  }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const proxy = await FaultProxy.start((server.address() as net.AddressInfo).port);
  closers.push(() => proxy.stop());
  const client = net.connect(proxy.port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => client.once('connect', resolve).once('error', reject));
  closers.push(async () => {
    client.destroy();
  });
  let text = '';
  client.setEncoding('utf8').on('data', (s: string) => {
    text += s;
  });
  return { proxy, client, received: () => text, serverGot: () => serverGot };
}

describe('the fault proxy\'s latency', () => {
  it('passes every chunk on, whole and in order, both ways', async () => {
    const { proxy, client, received } = await echoBehindProxy();
    proxy.set({ kind: 'latency', delayMs: 5 });
    const sent = Array.from({ length: 200 }, (_, i) => `chunk-${i};`);
    for (const s of sent) client.write(s);
    await waitFor(received, { what: 'the echo of every chunk', until: (t) => t.length === sent.join('').length, timeoutMs: 20_000 });
    expect(received()).toBe(sent.join(''));
  });

  it('holds the bytes for the delay, and passes what it held once the path is cleared', async () => {
    const { proxy, client, received, serverGot } = await echoBehindProxy();
    // Longer than the test: nothing may cross until the fault is cleared.
    proxy.set({ kind: 'latency', delayMs: 3_600_000 });
    client.write('held-1;');
    client.write('held-2;');
    // Written from the client: the proxy has it (its link is open) but the server has nothing yet.
    await waitFor(() => proxy.open, { what: 'the proxied connection', until: (n) => n === 1, timeoutMs: 5_000 });
    expect(serverGot()).toBe(0);
    proxy.clear();
    await waitFor(received, { what: 'the held bytes echoed', until: (t) => t === 'held-1;held-2;', timeoutMs: 10_000 });
  });
});
