import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadConfigFile, type Config } from '../../exporter/src/config/index.js';
import type { Dovecot } from './dovecot.js';

export interface LabMailbox {
  id: string;
  user: string;
  /** Default: the user at lab.example. */
  address?: string;
  /** Default true. */
  incoming?: boolean;
  /** Default false. */
  outgoing?: boolean;
  /** Appointments, contacts and tasks; the profile needs an `act:` section. Default false. */
  act?: boolean;
  /** mailboxes[].incoming.filter (and knownSenders): which stored emails reach the change feed. */
  incomingFilter?: { filter: 'all' | 'responses' | 'known-senders'; knownSenders?: string[] };
  password?: string;
  profile?: string;
  folders?: string[];
  startFrom?: string;
  /** OAuth2 grant refresh_token: the mailbox's initial refresh token (through an env reference). */
  refreshToken?: string;
  /** Declared approved in the config (mailboxes[].approval). */
  approval?: { approvedBy: string; role: 'admin' | 'operator' };
}

export interface LabOptions {
  mailboxes: LabMailbox[];
  /** Extra or overriding profiles; the default `lab` profile uses mailbox credentials over STARTTLS. */
  profiles?: Record<string, unknown>[];
  sync?: Record<string, unknown>;
  organization?: Record<string, unknown>;
  listen?: string;
  /** Other top-level sections (autodiscover, api). */
  extra?: Record<string, unknown>;
}

/** A profile pointing at the harness Dovecot, trusting its generated certificate. */
export function labProfile(dovecot: Dovecot, id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    incoming: { host: 'localhost', port: dovecot.imapPort, security: 'starttls', caFile: dovecot.cert.cert },
    auth: { mode: 'mailbox' },
    maxConnections: 50,
    minPollIntervalSeconds: 1,
    timeouts: { connectSeconds: 5, greetingSeconds: 5, socketSeconds: 30 },
    ...overrides,
  };
}

/**
 * Writes a real YAML config for the harness (passwords through environment references, as users
 * are told to) and loads it with the production loader. Returns the file and the loaded config.
 */
export function writeLabConfig(dovecot: Dovecot, options: LabOptions): { file: string; config: Config; env: NodeJS.ProcessEnv; dir: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'mailsync-lab-'));
  const env: NodeJS.ProcessEnv = {};
  // A profile with id `lab` in the options replaces the default one.
  const profiles = [...(options.profiles?.some((p) => p.id === 'lab') ? [] : [labProfile(dovecot, 'lab')]), ...(options.profiles ?? [])];
  const mailboxes = options.mailboxes.map((m) => {
    const profile = profiles.find((p) => p.id === (m.profile ?? 'lab')) as { auth?: { mode?: string } };
    const needsOwn = (profile.auth?.mode ?? 'mailbox') === 'mailbox';
    const envName = `LAB_PW_${m.id.replace(/[^A-Za-z0-9]/g, '_').toUpperCase()}`;
    if (needsOwn) env[envName] = m.password ?? `pw-${m.user}`;
    if (m.refreshToken) env[`${envName}_RT`] = m.refreshToken;
    return {
      id: m.id,
      address: m.address ?? (m.user.includes('@') ? m.user : `${m.user}@lab.example`),
      profile: m.profile ?? 'lab',
      ...(m.folders ? { folders: m.folders } : {}),
      ...(m.incoming === false ? { incoming: false } : {}),
      ...(m.incomingFilter ? { incoming: { enabled: m.incoming !== false, ...m.incomingFilter } } : {}),
      ...(m.outgoing ? { outgoing: true } : {}),
      ...(m.act ? { act: true } : {}),
      ...(m.startFrom ? { startFrom: m.startFrom } : {}),
      ...(m.approval ? { approval: m.approval } : {}),
      ...(needsOwn ? { credentials: { username: m.user, password: `\${${envName}}` } } : {}),
      ...(m.refreshToken ? { refreshToken: `\${${envName}_RT}` } : {}),
    };
  });
  // Rotated OAuth2 refresh tokens are kept encrypted: a lab with refresh tokens gets a key.
  if (options.mailboxes.some((m) => m.refreshToken)) env.LAB_STORE_KEY = 'lab-store-key-0123456789abcdef0123456789';
  const doc = {
    server: { listen: options.listen ?? '127.0.0.1:0' },
    store: { path: './mailsync.db', ...(env.LAB_STORE_KEY ? { encryptionKey: '${LAB_STORE_KEY}' } : {}) },
    log: { level: 'warn' },
    // Approval has its own tests; elsewhere the lab's mailboxes are processed without it.
    organization: { id: 'lab', processOnlyApproved: false, requireAdminApprovalForTrustedProfiles: false, ...options.organization },
    sync: { pollIntervalSeconds: 60, batchSize: 50, ...options.sync },
    profiles,
    mailboxes,
    ...options.extra,
  };
  const file = path.join(dir, 'mailsync.yaml');
  writeFileSync(file, stringify(doc));
  return { file, config: loadConfigFile(file, { env: { ...process.env, ...env } }), env, dir };
}
