import net from 'node:net';
import { waitFor } from './wait.js';

/** A TCP port that was free a moment ago on 127.0.0.1 (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once `port` answers with a line starting with `prefix`, or rejects after `timeoutMs`. */
export async function waitForGreeting(port: number, prefix: string, timeoutMs = 10_000): Promise<void> {
  await waitFor(() => greets(port, prefix), { what: `"${prefix}" from 127.0.0.1:${port}`, timeoutMs, intervalMs: 20 });
}

/** One connection: does the first line start with `prefix`? (Refused or silent: no.) */
function greets(port: number, prefix: string): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.setTimeout(1_000, () => socket.destroy());
    socket.on('data', (chunk) => {
      data += chunk.toString();
      if (data.includes('\n')) {
        socket.destroy();
        resolve(data.startsWith(prefix));
      }
    });
    socket.on('error', () => resolve(false));
    socket.on('close', () => resolve(data.startsWith(prefix)));
  });
}
