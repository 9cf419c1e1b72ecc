import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument, type Document, type YAMLError } from 'yaml';
import { configSchema, DEFAULTS, type RawConfig, type SecretInput } from './schema.js';
import { ConfigError, formatIssue } from './errors.js';
import { oauth2Problems, resolveOAuth2 } from './oauth2.js';
import { Secret } from './secret.js';
import { MIN_TOKEN_LENGTH, plaintextAutoconfigProblems, reportDuplicates, specialUseProblem, warnWeakApprovals } from './checks.js';
import { resolveWebhooks } from './webhooks.js';
import { resolvePostgresql } from './store-config.js';
import type { ApiToken, Config, Credentials, Mailbox, Profile } from './types.js';

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
  const document = configDocument(text, file);
  const config = configFromDocument(document, file, options);
  documents.set(config, document);
  return config;
}

/** C: the document each loaded config came from, so the definitions' merge does not parse the YAML again. */
const documents = new WeakMap<Config, unknown>();

/** The YAML document `config` was parsed from, if this loader parsed it. */
export function documentOf(config: Config): unknown {
  return documents.get(config);
}

/**
 * C: the file's YAML as plain values, before the schema: what the store's definitions are merged
 * into (definitions/), so the file and the API's profiles and mailboxes are validated together.
 */
export function readConfigDocument(file: string): unknown {
  const absolute = path.resolve(file);
  try {
    return configDocument(readFileSync(absolute, 'utf8'), absolute);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(absolute, [`cannot read the file: ${(error as Error).message}`]);
  }
}

function configDocument(text: string, file: string): unknown {
  if (text.trim() === '') throw new ConfigError(file, ['the file is empty: a config needs at least organization and profiles']);
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) throw new ConfigError(file, doc.errors.map((e) => yamlProblem(e, text)));
  return toJS(doc, file) ?? {};
}

/** Validates and resolves a config document (plain values, as YAML gives them); `file` anchors relative paths. */
export function configFromDocument(document: unknown, file: string, options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const parsed = configSchema.safeParse(document);
  if (!parsed.success) throw new ConfigError(file, parsed.error.issues.flatMap(formatIssue));
  return resolve(parsed.data, file, env);
}

function resolve(raw: RawConfig, file: string, env: NodeJS.ProcessEnv): Config {
  const found = newFindings(path.dirname(file), env);
  const { problems, warnings, baseDir } = found;

  const profiles = raw.profiles.map((p, i) => resolveProfile(p, `profiles[${i}]`, found, raw.organization));
  reportDuplicates(profiles.map((p) => p.id), 'profiles', 'id', problems);

  const byId = new Map(profiles.map((p) => [p.id, p]));
  // With a duplicated profile id (already a problem) the first one's outgoing server is the one checked.
  const hasOutgoing = (id: string) => raw.profiles.find((p) => p.id === id)?.outgoing !== undefined;
  const hasAct = (id: string) => raw.profiles.find((p) => p.id === id)?.act !== undefined;
  const profileIndex = new Map(raw.profiles.map((p, i) => [p.id, i] as const).reverse());
  const mailboxes = raw.mailboxes.map((m, i) => resolveMailbox(m, `mailboxes[${i}]`, { byId, hasOutgoing, hasAct, startFrom: raw.sync.startFrom }, found));
  for (const m of mailboxes) {
    if (m.approval) continue;
    const declared = byId.get(m.profile)?.approval;
    if (declared) m.approval = { ...declared, declaredAt: `profiles[${profileIndex.get(m.profile)}].approval` };
  }
  warnWeakApprovals(mailboxes, byId, raw.organization, warnings);
  reportDuplicates(mailboxes.map((m) => m.id), 'mailboxes', 'id', problems);
  reportDuplicates(mailboxes.map((m) => m.address), 'mailboxes', 'address', problems);

  const tokens: ApiToken[] = raw.api.tokens.map((t, i) => {
    const token = found.secret(t.token, `api.tokens[${i}].token`);
    // Short tokens can be guessed; 16 characters of a generator's output are far beyond that.
    if (token.source !== 'invalid' && token.reveal().length < MIN_TOKEN_LENGTH) {
      problems.push(`api.tokens[${i}].token: must be at least ${MIN_TOKEN_LENGTH} characters (try: openssl rand -hex 24)`);
    }
    return { name: t.name, role: t.role, token };
  });
  reportDuplicates(tokens.map((t) => t.name), 'api.tokens', 'name', problems);
  reportDuplicates(tokens.map((t) => t.token.reveal()).filter((v) => v !== ''), 'api.tokens', 'token', problems, false);
  problems.push(...plaintextAutoconfigProblems(raw));
  const encryptionKey = raw.store.encryptionKey === undefined ? undefined : found.secret(raw.store.encryptionKey, 'store.encryptionKey');
  problems.push(...oauth2Problems(profiles, mailboxes, encryptionKey));
  const webhooks = resolveWebhooks(raw, found.secret, problems);
  const postgresql = resolvePostgresql(raw, found.baseDir, found.secret, problems);

  if (problems.length > 0) throw new ConfigError(file, problems);
  return {
    ...raw,
    api: { tokens },
    webhooks,
    store: {
      path: path.resolve(baseDir, raw.store.path), encryptionKey, driver: raw.store.driver, ...(postgresql ? { postgresql } : {}),
      ...(raw.store.packDir !== undefined ? { packDir: path.resolve(baseDir, raw.store.packDir) } : {}),
    },
    profiles,
    mailboxes,
    file,
    warnings,
  };
}

/** What resolving finds, in file order: problems reject the config, warnings do not. */
interface Findings {
  problems: string[];
  warnings: string[];
  baseDir: string;
  secret: (input: SecretInput, where: string) => Secret;
  credentials: (c: RawCredentials | undefined, where: string) => Credentials | undefined;
}

type RawCredentials = { username: string; password: SecretInput };

function newFindings(baseDir: string, env: NodeJS.ProcessEnv): Findings {
  const problems: string[] = [];
  const warnings: string[] = [];
  const secret = (input: SecretInput, where: string): Secret => {
    const result = readSecret(input, baseDir, env);
    if (typeof result === 'string') {
      problems.push(`${where}: ${result}`);
      return new Secret('', 'invalid');
    }
    if (result.source === 'inline') warnings.push(`${where}: secret written inline; prefer "\${ENV_NAME}" or { file: ... }`);
    return result;
  };
  const credentials = (c: RawCredentials | undefined, where: string) =>
    c ? { username: c.username, password: secret(c.password, `${where}.password`) } : undefined;
  return { problems, warnings, baseDir, secret, credentials };
}

function resolveProfile(p: RawConfig['profiles'][number], where: string, found: Findings, organization: RawConfig['organization']): Profile {
  const { problems, warnings, baseDir } = found;
  const oauth2 = p.auth.mode === 'oauth2' ? resolveOAuth2(p.auth.oauth2, `${where}.auth.oauth2`, found, organization) : undefined;
  if (p.auth.mode !== 'oauth2' && p.auth.oauth2) problems.push(`${where}.auth.oauth2: used only when auth.mode is "oauth2"`);
  if (p.auth.mode === 'oauth2' && p.auth.credentials) problems.push(`${where}.auth.credentials: not used when auth.mode is "oauth2" (the login is the mailbox address)`);
  if (p.auth.mode !== 'mailbox' && p.auth.mode !== 'oauth2' && !p.auth.credentials) {
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
  // B: POP3 profiles
  if (p.incoming.protocol === 'pop3' && p.incoming.autodiscover) {
    problems.push(`${where}.incoming.autodiscover: not available with incoming.protocol "pop3"; set incoming.host`);
  }
  if (p.incoming.protocol !== 'pop3' && p.incoming.pop3.deleteAfterSync) {
    problems.push(`${where}.incoming.pop3.deleteAfterSync: only for incoming.protocol "pop3"; IMAP sync never deletes`);
  }
  const sentProblem = p.outgoing && specialUseProblem(p.outgoing.sentFolder);
  if (sentProblem) problems.push(`${where}.outgoing.sentFolder: ${sentProblem}`);
  if (p.incoming.security === 'none') {
    warnings.push(`${where}.incoming.security: "none" sends mail without encryption`);
  }
  if (p.act?.url?.startsWith('http:')) {
    warnings.push(`${where}.act.url: "http:" sends appointments and contacts without encryption`);
  }
  if (p.outgoing?.security === 'none') {
    warnings.push(`${where}.outgoing.security: "none" sends mail without encryption`);
  }
  const caFile = (file: string | undefined) => (file === undefined ? undefined : path.resolve(baseDir, file));
  return {
    ...p,
    incoming: { ...p.incoming, caFile: caFile(p.incoming.caFile) },
    outgoing: p.outgoing && { ...p.outgoing, caFile: caFile(p.outgoing.caFile) },
    act: p.act && { ...p.act, caFile: caFile(p.act.caFile) },
    auth: { mode: p.auth.mode, credentials: found.credentials(p.auth.credentials, `${where}.auth.credentials`), oauth2 },
  };
}

function resolveMailbox(
  m: RawConfig['mailboxes'][number],
  where: string,
  profiles: { byId: Map<string, Profile>; hasOutgoing: (id: string) => boolean; hasAct: (id: string) => boolean; startFrom: string },
  found: Findings,
): Mailbox {
  const { problems } = found;
  const profile = profiles.byId.get(m.profile);
  if (!profile) {
    problems.push(`${where}.profile: unknown profile "${m.profile}" (defined: ${[...profiles.byId.keys()].join(', ')})`);
  } else if (profile.auth.mode === 'mailbox' && !m.credentials) {
    problems.push(`${where}.credentials: required because profile "${profile.id}" uses auth.mode "mailbox"`);
  } else if (profile.auth.mode !== 'mailbox' && m.credentials) {
    problems.push(`${where}.credentials: not used because profile "${profile.id}" uses auth.mode "${profile.auth.mode}"`);
  }
  if (new Set(m.folders).size !== m.folders.length) problems.push(`${where}.folders: a folder is listed twice`);
  m.folders.forEach((f, i) => {
    const problem = specialUseProblem(f);
    if (problem) problems.push(`${where}.folders[${i}]: ${problem}`);
  });
  if (profile?.incoming.protocol === 'pop3' && (m.folders.length !== 1 || m.folders[0] !== 'INBOX')) {
    problems.push(`${where}.folders: profile "${profile.id}" uses POP3, which reads one maildrop (INBOX); remove folders`);
  }
  if (m.outgoing && profile && !profiles.hasOutgoing(profile.id)) {
    problems.push(`${where}.outgoing: profile "${profile.id}" has no outgoing server (profiles[].outgoing)`);
  }
  if (m.act && profile && !profiles.hasAct(profile.id)) {
    problems.push(`${where}.act: profile "${profile.id}" has no appointments, contacts and tasks server (profiles[].act)`);
  }
  return {
    ...m,
    address: m.address.toLowerCase(),
    credentials: found.credentials(m.credentials, `${where}.credentials`),
    refreshToken: m.refreshToken === undefined ? undefined : found.secret(m.refreshToken, `${where}.refreshToken`),
    startFrom: m.startFrom ?? profiles.startFrom,
    approval: m.approval && { ...m.approval, declaredAt: `${where}.approval` },
  };
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

/** YAML's own error, on one line: where, what, and for a duplicate key which key. */
function yamlProblem(e: YAMLError, text: string): string {
  const what = (e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
  const at = e.linePos?.[0];
  const where = at ? ` (line ${at.line}, column ${at.col})` : '';
  if (e.code === 'DUPLICATE_KEY') {
    const key = /^[^:\n]*/.exec(text.slice(e.pos[0]))?.[0].trim();
    return `YAML${where}: the key "${key}" is written twice`;
  }
  return `YAML${where}: ${what}`;
}

/**
 * The document as plain values. Aliases are expanded here; a few lines of them can expand to
 * billions of nodes (an "alias bomb"), which the YAML library refuses past maxAliasCount.
 */
function toJS(doc: Document, file: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    if (error instanceof ReferenceError) throw new ConfigError(file, ['YAML: aliases expand to too many nodes (more than 100 alias uses): refusing it']);
    throw error;
  }
}

