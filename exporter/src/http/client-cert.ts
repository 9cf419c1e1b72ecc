import type { TlsSettings } from './web-config.js';

/**
 * Why a TLS client may not go on, for the client_auth_type values Node's two TLS options
 * (requestCert, rejectUnauthorized) cannot express alone, and client_allowed_sans; undefined
 * when it may. `subjectAltName` is Node's rendering: "DNS:a, IP Address:1.2.3.4, email:b, URI:c".
 */
export function clientCertProblem(tls: Pick<TlsSettings, 'clientAuth' | 'allowedSans'>, hasCert: boolean, verified: boolean, subjectAltName: string | undefined): string | undefined {
  const required = tls.clientAuth === 'RequireAnyClientCert' || tls.clientAuth === 'RequireAndVerifyClientCert';
  if (required && !hasCert) return 'no client certificate was presented';
  if ((tls.clientAuth === 'VerifyClientCertIfGiven' || tls.clientAuth === 'RequireAndVerifyClientCert') && hasCert && !verified) return 'the client certificate is not signed by client_ca_file';
  if (tls.allowedSans) {
    const names = (subjectAltName ?? '').split(', ').map((entry) => entry.slice(entry.indexOf(':') + 1));
    if (!names.some((n) => tls.allowedSans?.includes(n))) return 'the client certificate has none of client_allowed_sans';
  }
  return undefined;
}
