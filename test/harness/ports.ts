import net from 'node:net';

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
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
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
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing answered "${prefix}" on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
