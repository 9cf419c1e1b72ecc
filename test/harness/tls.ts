import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface CertFiles {
  cert: string;
  key: string;
}

export interface CertOptions {
  /** subjectAltName entries; the first is also the CN. */
  names?: string[];
  /** Valid only on 2020-01-01: for the expired-certificate case. */
  expired?: boolean;
}

/** A self-signed certificate made with the system's openssl, valid for 30 days unless `expired`. */
export function makeCert(dir: string, name: string, options: CertOptions = {}): CertFiles {
  const names = options.names ?? ['localhost', '127.0.0.1'];
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  const san = names.map((n) => (/^[\d.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  const keyArgs = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key,
    '-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${san}`];
  if (!options.expired) {
    execFileSync('openssl', ['req', '-x509', ...keyArgs, '-out', cert, '-days', '30'], { stdio: 'pipe' });
    return { cert, key };
  }
  // OpenSSL 3.0's req refuses dates in the past; its ca command takes explicit start and end dates.
  const ca = mkdtempSync(path.join(dir, 'ca-'));
  writeFileSync(path.join(ca, 'index.txt'), '');
  writeFileSync(path.join(ca, 'serial'), '01\n');
  writeFileSync(path.join(ca, 'ca.cnf'), [
    '[ca]', 'default_ca = d', '[d]', `database = ${ca}/index.txt`, `new_certs_dir = ${ca}`, `serial = ${ca}/serial`,
    'default_md = sha256', 'policy = p', 'copy_extensions = copy', '[p]', 'commonName = supplied', '',
  ].join('\n'));
  const csr = path.join(ca, 'req.csr');
  execFileSync('openssl', ['req', '-new', ...keyArgs, '-out', csr], { stdio: 'pipe' });
  execFileSync('openssl', ['ca', '-batch', '-config', path.join(ca, 'ca.cnf'), '-selfsign', '-keyfile', key, '-in', csr,
    '-out', cert, '-startdate', '20200101000000Z', '-enddate', '20200102000000Z'], { stdio: 'pipe' });
  rmSync(ca, { recursive: true, force: true });
  return { cert, key };
}
