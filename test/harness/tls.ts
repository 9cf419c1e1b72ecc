import { execFileSync } from 'node:child_process';
import path from 'node:path';

export interface CertFiles {
  cert: string;
  key: string;
}

/**
 * A self-signed certificate made with the system's openssl, valid for 30 days; `names` go into
 * subjectAltName (the first is also the CN).
 */
export function makeCert(dir: string, name: string, options: { names?: string[] } = {}): CertFiles {
  const names = options.names ?? ['localhost', '127.0.0.1'];
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  const san = names.map((n) => (/^[\d.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${san}`, '-days', '30'];
  execFileSync('openssl', args, { stdio: 'pipe' });
  return { cert, key };
}
