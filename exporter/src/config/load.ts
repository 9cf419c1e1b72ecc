import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { configSchema, DEFAULTS, LIMIT_PRESETS, type RawConfig, type SecretInput } from './schema.js';
import { ConfigError, formatIssue } from './errors.js';
import { Secret } from './secret.js';

export interface Credentials {
  username: string;
  password: Secret;
}

export type Security = 'tls' | 'starttls' | 'none';
export type AuthMode = 'mailbox' | 'profile' | 'impersonation';

export interface Profile {
  id: string;
  owner: string | undefined;
  /** `host` is undefined when the server is found by autodiscover from each mailbox's address. */
  incoming: { protocol: 'imap'; host: string | undefined; autodiscover: boolean; port: number; security: Security; caFile: string | undefined };
  outgoing: OutgoingServer | undefined;
  auth: { mode: AuthMode; credentials: Credentials | undefined };
  maxConnections: number;
  minPollIntervalSeconds: number;
  timeouts: { connectSeconds: number; greetingSeconds: number; socketSeconds: number };
}

export interface OutgoingServer {
  protocol: 'smtp';
  host: string;
  port: number;
  security: Security;
  caFile: string | undefined;
  maxConnections: number;
  sentCopy: 'server' | 'append' | 'none';
  sentFolder: string;
  /** Resolved from a preset or the explicit values; undefined means no limit. */
  limits: { messagesPerMinute: number | undefined; recipientsPerDay: number | undefined };
}

export interface Mailbox {
  id: string;
  address: string;
  profile: string;
  incoming: boolean;
  outgoing: boolean;
  act: boolean;
  folders: string[];
  credentials: Credentials | undefined;
  /** 'all' or a YYYY-MM-DD date; the mailbox's own value, else the sync default. */
  startFrom: string;
}

export type Role = 'viewer' | 'operator' | 'admin';

export interface ApiToken {
  name: string;
  role: Role;
  token: Secret;
}

export interface Config extends Omit<RawConfig, 'profiles' | 'mailboxes' | 'api'> {
  profiles: Profile[];
  api: { tokens: ApiToken[] };
  mailboxes: Mailbox[];
  /** Absolute path of the file this config was read from. */
  file: string;
  /** Things that are allowed but unwise (inline secrets, plaintext servers). */
  warnings: string[];
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
}

/** The config file named on the command line, else MAILSYNC_CONFIG, else an error. */
export function resolveConfigPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = flag ?? env.MAILSYNC_CONFIG;
  if (!chosen) throw new ConfigError('(none)', ['no config file: pass --config FILE or set MAILSYNC_CONFIG']);
  return path.resolve(chosen);
}

export function loadConfigFile(file: string, options: LoadOptions = {}): Config {
  const absolute = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (error) {
    throw new ConfigError(absolute, [`cannot read the file: ${(error as Error).message}`]);
  }
  return parseConfig(text, absolute, options);
}

/** Parses and validates YAML text; `file` names the source and anchors relative paths. */
export function parseConfig(text: string, file: string, options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(file, doc.errors.map((e) => `YAML: ${e.message.split('\n')[0]}`));
  }
  const parsed = configSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) throw new ConfigError(file, parsed.error.issues.flatMap(formatIssue));
  return resolve(parsed.data, file, env);
}

function resolve(raw: RawConfig, file: string, env: NodeJS.ProcessEnv): Config {
  const problems: string[] = [];
  const warnings: string[] = [];
  const baseDir = path.dirname(file);
  const secret = (input: SecretInput, where: string): Secret => {
    const result = readSecret(input, baseDir, env);
    if (typeof result === 'string') {
      problems.push(`${where}: ${result}`);
      return new Secret('', 'invalid');
    }
    if (result.source === 'inline') warnings.push(`${where}: secret written inline; prefer "\${ENV_NAME}" or { file: ... }`);
    return result;
  };
  const creds = (c: { username: string; password: SecretInput } | undefined, where: string) =>
    c ? { username: c.username, password: secret(c.password, `${where}.password`) } : undefined;

  const profiles: Profile[] = raw.profiles.map((p, i) => {
    const where = `profiles[${i}]`;
    if (p.auth.mode !== 'mailbox' && !p.auth.credentials) {
      problems.push(`${where}.auth.credentials: required when auth.mode is "${p.auth.mode}"`);
    }
    if (p.auth.mode === 'mailbox' && p.auth.credentials) {
      problems.push(`${where}.auth.credentials: not used when auth.mode is "mailbox"; remove it or change the mode`);
    }
    if (p.incoming.host === undefined && !p.incoming.autodiscover) {
      problems.push(`${where}.incoming.host: required unless incoming.autodiscover is true`);
    }
    if (p.incoming.host !== undefined && p.incoming.autodiscover) {
      problems.push(`${where}.incoming.autodiscover: cannot be combined with incoming.host; remove one`);
    }
    if (p.incoming.security === 'none') {
      warnings.push(`${where}.incoming.security: "none" sends mail without encryption`);
    }
    if (p.outgoing?.security === 'none') {
      warnings.push(`${where}.outgoing.security: "none" sends mail without encryption`);
    }
    return {
      id: p.id,
      owner: p.owner,
      incoming: {
        protocol: p.incoming.protocol,
        host: p.incoming.host,
        autodiscover: p.incoming.autodiscover,
        port: p.incoming.port ?? (p.incoming.security === 'tls' ? 993 : 143),
        security: p.incoming.security,
        caFile: p.incoming.caFile === undefined ? undefined : path.resolve(baseDir, p.incoming.caFile),
      },
      outgoing: p.outgoing && {
        protocol: p.outgoing.protocol,
        host: p.outgoing.host,
        port: p.outgoing.port ?? ({ tls: 465, starttls: 587, none: 25 } as const)[p.outgoing.security],
        security: p.outgoing.security,
        caFile: p.outgoing.caFile === undefined ? undefined : path.resolve(baseDir, p.outgoing.caFile),
        maxConnections: p.outgoing.maxConnections,
        sentCopy: p.outgoing.sentCopy,
        sentFolder: p.outgoing.sentFolder,
        limits: 'preset' in p.outgoing.limits
          ? { ...LIMIT_PRESETS[p.outgoing.limits.preset] }
          : { messagesPerMinute: p.outgoing.limits.messagesPerMinute, recipientsPerDay: p.outgoing.limits.recipientsPerDay },
      },
      auth: { mode: p.auth.mode, credentials: creds(p.auth.credentials, `${where}.auth.credentials`) },
      maxConnections: p.maxConnections,
      minPollIntervalSeconds: p.minPollIntervalSeconds,
      timeouts: p.timeouts,
    };
  });
  reportDuplicates(profiles.map((p) => p.id), 'profiles', 'id', problems);

  const byId = new Map(profiles.map((p) => [p.id, p]));
  const mailboxes: Mailbox[] = raw.mailboxes.map((m, i) => {
    const where = `mailboxes[${i}]`;
    const profile = byId.get(m.profile);
    if (!profile) {
      problems.push(`${where}.profile: unknown profile "${m.profile}" (defined: ${[...byId.keys()].join(', ')})`);
    } else if (profile.auth.mode === 'mailbox' && !m.credentials) {
      problems.push(`${where}.credentials: required because profile "${profile.id}" uses auth.mode "mailbox"`);
    } else if (profile.auth.mode !== 'mailbox' && m.credentials) {
      problems.push(`${where}.credentials: not used because profile "${profile.id}" uses auth.mode "${profile.auth.mode}"`);
    }
    if (new Set(m.folders).size !== m.folders.length) problems.push(`${where}.folders: a folder is listed twice`);
    if (m.outgoing && profile && !raw.profiles.find((p) => p.id === profile.id)?.outgoing) {
      problems.push(`${where}.outgoing: profile "${profile.id}" has no outgoing server (profiles[].outgoing)`);
    }
    return {
      ...m,
      address: m.address.toLowerCase(),
      credentials: creds(m.credentials, `${where}.credentials`),
      startFrom: m.startFrom ?? raw.sync.startFrom,
    };
  });
  reportDuplicates(mailboxes.map((m) => m.id), 'mailboxes', 'id', problems);
  reportDuplicates(mailboxes.map((m) => m.address), 'mailboxes', 'address', problems);

  const tokens: ApiToken[] = raw.api.tokens.map((t, i) => {
    const token = secret(t.token, `api.tokens[${i}].token`);
    // Short tokens can be guessed; 16 characters of a generator's output are far beyond that.
    if (token.source !== 'invalid' && token.reveal().length < MIN_TOKEN_LENGTH) {
      problems.push(`api.tokens[${i}].token: must be at least ${MIN_TOKEN_LENGTH} characters (try: openssl rand -hex 24)`);
    }
    return { name: t.name, role: t.role, token };
  });
  reportDuplicates(tokens.map((t) => t.name), 'api.tokens', 'name', problems);
  reportDuplicates(tokens.map((t) => t.token.reveal()).filter((v) => v !== ''), 'api.tokens', 'token', problems, false);

  if (problems.length > 0) throw new ConfigError(file, problems);
  return {
    ...raw,
    api: { tokens },
    store: { path: path.resolve(baseDir, raw.store.path) },
    profiles,
    mailboxes,
    file,
    warnings,
  };
}

const MIN_TOKEN_LENGTH = 16;

/** `showValue` is false for secrets: the problem names the entries, never the value. */
function reportDuplicates(values: string[], list: string, key: string, problems: string[], showValue = true): void {
  const seen = new Map<string, number>();
  values.forEach((value, i) => {
    const first = seen.get(value);
    if (first === undefined) seen.set(value, i);
    else problems.push(`${list}[${i}].${key}: ${showValue ? `"${value}" ` : ''}is already used by ${list}[${first}]`);
  });
}

const ENV_REF = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

/** Returns the secret, or a reason it could not be read (never the value itself). */
function readSecret(input: SecretInput, baseDir: string, env: NodeJS.ProcessEnv): Secret | string {
  const envName = typeof input === 'string' ? ENV_REF.exec(input)?.[1] : 'env' in input ? input.env : undefined;
  if (envName !== undefined) {
    const value = env[envName];
    if (value === undefined || value === '') return `environment variable ${envName} is not set`;
    return new Secret(value, `env:${envName}`);
  }
  if (typeof input === 'string') {
    if (input.includes('${')) return 'a reference must be the whole value, written "${ENV_NAME}"';
    return new Secret(input, 'inline');
  }
  if (!('file' in input)) return 'must name an env variable or a file';
  const file = path.resolve(baseDir, input.file);
  try {
    // A trailing newline is what editors and `echo` leave; it is never part of a password.
    const value = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    if (value === '') return `file ${file} is empty`;
    return new Secret(value, `file:${file}`);
  } catch (error) {
    return `cannot read file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
  }
}

export { DEFAULTS };
