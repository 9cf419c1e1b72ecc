import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createSecureContext, DEFAULT_CIPHERS, type SecureContextOptions, type SecureVersion } from 'node:tls';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, formatIssue } from '../config/errors.js';

// --web.config.file: the file format of Prometheus' exporter-toolkit, so that one file (and
// `promtool check web-config`) serves mailsync as it serves node_exporter. Written here, read
// with our own schema: the keys and values it accepts are the toolkit's; keys the toolkit has
// and mailsync does not implement are refused by name instead of being silently ignored.

export const CLIENT_AUTH_TYPES = ['NoClientCert', 'RequestClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'] as const;
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];
/** The older name the toolkit still accepts for RequireAnyClientCert. */
const CLIENT_AUTH_ALIASES: Record<string, ClientAuthType> = { RequireClientCert: 'RequireAnyClientCert' };

const TLS_VERSIONS: Record<string, SecureVersion> = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' };
const CURVES: Record<string, string> = { CurveP256: 'P-256', CurveP384: 'P-384', CurveP521: 'P-521', X25519: 'X25519' };
/**
 * Go's names of the TLS 1.2 suites it offers, as OpenSSL names them. Go ignores TLS 1.3 suites in
 * this list (they are not configurable there); they are accepted and keep OpenSSL's defaults here.
 */
const TLS12_CIPHERS: Record<string, string> = {
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
};
const TLS13_CIPHERS = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];

/** The headers the toolkit lets a file set, with the values it allows (none listed: any). */
const HEADER_VALUES: Record<string, string[] | undefined> = {
  'Strict-Transport-Security': undefined,
  'X-Content-Type-Options': ['nosniff'],
  'X-Frame-Options': ['deny', 'sameorigin'],
  'X-XSS-Protection': undefined,
  'Content-Security-Policy': undefined,
};

/** bcrypt's modular crypt format, as Go's bcrypt.Cost reads it: $2<minor>$<cost>$<53 chars>. */
const BCRYPT = /^\$2[aby]?\$\d{2}\$[./A-Za-z0-9]{53}$/;

const choice = (names: readonly string[], what: string) =>
  z.string().refine((v) => names.includes(v), { error: (i) => `unknown ${what} ${JSON.stringify(i.input)} (one of ${names.join(', ')})` });
const text = z.string().min(1, { error: 'must not be empty' });

const tlsSchema = z.strictObject({
  cert: text.optional(),
  key: text.optional(),
  client_ca: text.optional(),
  cert_file: text.optional(),
  key_file: text.optional(),
  client_auth_type: choice([...CLIENT_AUTH_TYPES, ...Object.keys(CLIENT_AUTH_ALIASES)], 'client_auth_type').optional(),
  client_ca_file: text.optional(),
  client_allowed_sans: z.array(text).optional(),
  min_version: choice(Object.keys(TLS_VERSIONS), 'TLS version').default('TLS12'),
  max_version: choice(Object.keys(TLS_VERSIONS), 'TLS version').default('TLS13'),
  cipher_suites: z.array(choice([...Object.keys(TLS12_CIPHERS), ...TLS13_CIPHERS], 'cipher suite')).optional(),
  prefer_server_cipher_suites: z.boolean().default(true),
  curve_preferences: z.array(choice(Object.keys(CURVES), 'curve')).optional(),
});

const headersSchema = z.record(z.string(), z.string()).superRefine((headers, ctx) => {
  for (const [name, value] of Object.entries(headers)) {
    if (!(name in HEADER_VALUES)) ctx.addIssue({ code: 'custom', path: [name], message: `this header cannot be set (the settable ones are ${Object.keys(HEADER_VALUES).join(', ')})` });
    const allowed = HEADER_VALUES[name];
    if (allowed && value !== '' && !allowed.includes(value)) ctx.addIssue({ code: 'custom', path: [name], message: `must be one of ${allowed.join(', ')}, not ${JSON.stringify(value)}` });
  }
});

const fileSchema = z.strictObject({
  tls_server_config: tlsSchema.nullish(),
  http_server_config: z.strictObject({
    // Accepted for the toolkit's files; mailsync serves HTTP/1.1 only (see docs/configuration.md).
    http2: z.boolean().optional(),
    headers: headersSchema.nullish(),
  }).nullish(),
  basic_auth_users: z.record(z.string(), z.string().regex(BCRYPT, { error: 'must be a bcrypt hash such as $2y$10$... (htpasswd -nBC 10 "" | tr -d \':\\n\')' })).nullish(),
});

/** The toolkit's keys that mailsync does not implement: refused, so nobody believes them applied. */
const UNSUPPORTED: Record<string, string> = {
  rate_limit: 'mailsync does not rate-limit all requests; it limits failed authentications per client address (docs/configuration.md)',
};

export interface TlsSettings {
  /** Cert, key, CA, versions, ciphers: what a TLS server context takes; reloadable. */
  context: SecureContextOptions;
  clientAuth: ClientAuthType;
  /** client_allowed_sans: the client certificate must carry one of these names. */
  allowedSans?: string[];
}

export interface WebConfig {
  file: string;
  tls?: TlsSettings;
  /** http_server_config.headers with an empty value left out (the toolkit's "unset if blank"). */
  headers: Record<string, string>;
  /** user -> bcrypt hash; empty: no basic authentication. */
  users: Map<string, string>;
}

/** Reads and checks a web config file; every problem is named by its key, as for the main config. */
export function loadWebConfig(file: string): WebConfig {
  let input: unknown;
  try {
    input = parseYaml(readFileSync(file, 'utf8')) ?? {};
  } catch (error) {
    throw new ConfigError(file, [`cannot read it: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`]);
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new ConfigError(file, ['(top level): must be a mapping of keys']);
  const unsupported = Object.keys(input).filter((k) => k in UNSUPPORTED).map((k) => `${k}: not supported: ${UNSUPPORTED[k]}`);
  const rest = Object.fromEntries(Object.entries(input).filter(([k]) => !(k in UNSUPPORTED)));
  const parsed = fileSchema.safeParse(rest);
  const problems = [...unsupported, ...(parsed.success ? [] : parsed.error.issues.flatMap(formatIssue))];
  if (problems.length > 0 || !parsed.success) throw new ConfigError(file, problems);
  const tls = parsed.data.tls_server_config;
  const headers = Object.fromEntries(Object.entries(parsed.data.http_server_config?.headers ?? {}).filter(([, v]) => v !== ''));
  return {
    file,
    ...(tls && tlsEnabled(tls) ? { tls: tlsSettings(tls, path.dirname(file), file) } : {}),
    headers,
    users: new Map(Object.entries(parsed.data.basic_auth_users ?? {})),
  };
}

type TlsInput = z.infer<typeof tlsSchema>;

/** The toolkit serves TLS as soon as any of these is set; otherwise plain HTTP. */
function tlsEnabled(t: TlsInput): boolean {
  return [t.cert, t.key, t.cert_file, t.key_file, t.client_ca, t.client_ca_file, t.client_auth_type].some((v) => v !== undefined);
}

function tlsSettings(t: TlsInput, dir: string, file: string): TlsSettings {
  const problems: string[] = [];
  const read = (key: string, inline: string | undefined, name: string | undefined, required: boolean): string | undefined => {
    if (inline !== undefined && name !== undefined) problems.push(`tls_server_config: give ${key} or ${key}_file, not both`);
    if (inline !== undefined) return inline;
    if (name === undefined) {
      if (required) problems.push(`tls_server_config.${key}_file: required (or ${key} inline) when TLS is configured`);
      return undefined;
    }
    // Relative to the web config file, as the toolkit resolves them.
    const resolved = path.resolve(dir, name);
    try {
      return readFileSync(resolved, 'utf8');
    } catch (error) {
      problems.push(`tls_server_config.${key}_file: cannot read ${resolved}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      return undefined;
    }
  };
  const cert = read('cert', t.cert, t.cert_file, true);
  const key = read('key', t.key, t.key_file, true);
  const ca = read('client_ca', t.client_ca, t.client_ca_file, false);
  const clientAuth = CLIENT_AUTH_ALIASES[t.client_auth_type ?? ''] ?? (t.client_auth_type as ClientAuthType | undefined) ?? 'NoClientCert';
  if (ca !== undefined && clientAuth === 'NoClientCert') problems.push('tls_server_config.client_ca_file: a client CA is configured but client_auth_type is NoClientCert (set RequireAndVerifyClientCert)');
  if (t.client_allowed_sans && clientAuth !== 'RequireAnyClientCert' && clientAuth !== 'RequireAndVerifyClientCert') {
    problems.push('tls_server_config.client_allowed_sans: needs client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert (otherwise a client may send no certificate to match)');
  }
  const minVersion = TLS_VERSIONS[t.min_version] as SecureVersion;
  const maxVersion = TLS_VERSIONS[t.max_version] as SecureVersion;
  if (minVersion > maxVersion) problems.push(`tls_server_config.min_version: ${t.min_version} is above max_version ${t.max_version}`);
  const context: SecureContextOptions = {
    cert, key, minVersion, maxVersion, honorCipherOrder: t.prefer_server_cipher_suites,
    ...(ca !== undefined ? { ca } : {}),
    ...(t.cipher_suites ? { ciphers: ciphers(t.cipher_suites) } : {}),
    ...(t.curve_preferences ? { ecdhCurve: t.curve_preferences.map((c) => CURVES[c]).join(':') } : {}),
  };
  if (problems.length === 0) {
    try {
      // Fails on a key that does not match its certificate, or PEM that is not one.
      createSecureContext(context);
    } catch (error) {
      problems.push(`tls_server_config: the certificate and key cannot be used: ${(error as Error).message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(file, problems);
  return { context, clientAuth, ...(t.client_allowed_sans ? { allowedSans: t.client_allowed_sans } : {}) };
}

/** OpenSSL's cipher string: the TLS 1.2 suites chosen, and the default TLS 1.3 ones (not configurable, as in Go). */
function ciphers(names: string[]): string {
  const tls12 = names.flatMap((n) => (TLS12_CIPHERS[n] ? [TLS12_CIPHERS[n]] : []));
  const tls13 = DEFAULT_CIPHERS.split(':').filter((c) => c.startsWith('TLS_'));
  return [...tls13, ...tls12].join(':');
}
