import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCert, type CertFiles } from '../../../test/harness/tls.js';
import { ClassifiedError } from '../classify/index.js';
import { clientContext } from './tls-context.js';

/** Connects with the shared context and reports whether the server's certificate was trusted. */
function handshake(port: number, context: tls.SecureContext): Promise<'trusted' | string> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', secureContext: context, rejectUnauthorized: true }, () => {
      socket.end();
      resolve('trusted');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe('clientContext', () => {
  let dir: string;
  let server: tls.Server;
  let port: number;
  let served: CertFiles;
  let other: CertFiles;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mailsync-tls-context-'));
    served = makeCert(dir, 'served');
    other = makeCert(dir, 'other');
    server = tls.createServer({ cert: readFileSync(served.cert), key: readFileSync(served.key), minVersion: 'TLSv1.2' }, (s) => s.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('shares one context per CA file, which trusts what the file holds', async () => {
    const ca = path.join(dir, 'ca-shared.pem');
    copyFileSync(served.cert, ca);
    const first = clientContext(ca);
    expect(clientContext(ca)).toBe(first);
    expect(await handshake(port, first)).toBe('trusted');
  });

  it('reads a CA file again once it was replaced', async () => {
    const ca = path.join(dir, 'ca-rotated.pem');
    copyFileSync(served.cert, ca);
    const before = clientContext(ca);
    expect(await handshake(port, before)).toBe('trusted');
    // Replaced the way deployments do it (write aside, rename over): the server is no longer trusted.
    copyFileSync(other.cert, `${ca}.new`);
    renameSync(`${ca}.new`, ca);
    const after = clientContext(ca);
    expect(after).not.toBe(before);
    expect(await handshake(port, after)).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
  });

  it('names the file when it cannot be read, as the profile error it is', () => {
    const missing = path.join(dir, 'missing.pem');
    expect(() => clientContext(missing)).toThrow(ClassifiedError);
    expect(() => clientContext(missing)).toThrow(/caFile .*missing\.pem: ENOENT/);
  });

  it('shares one context for the system CAs', () => {
    expect(clientContext(undefined)).toBe(clientContext(undefined));
  });
});
