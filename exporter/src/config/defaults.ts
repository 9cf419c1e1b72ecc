import { DEFAULT_LEASE_SECONDS, DEFAULT_RETRY_BUDGET, INTERMITTENT_WINDOW_SECONDS, LONG_TEST_ENABLE_SECONDS } from '@mailsync/contract';
import { FEED_DEFAULTS } from './feed-schema.js';

/** Named defaults: each one is documented in docs/configuration.md. */
export const DEFAULTS = {
  listen: '127.0.0.1:9782',
  storePath: './data/mailsync.db',
  logLevel: 'info',
  maxTransientRetries: DEFAULT_RETRY_BUDGET,
  retryIntervalSeconds: 300,
  pollIntervalSeconds: 300,
  // ±10 % spreads mailboxes configured at once so they do not all hit the server in the same second.
  jitterRatio: 0.1,
  maxConcurrentCycles: 16,
  // 200 UIDs per FETCH keeps one transaction and one response under a few MB for typical mail.
  batchSize: 200,
  // 25 MiB: the largest message most hosted providers accept; bigger ones are item-level failures.
  maxMessageBytes: 25 * 1024 * 1024,
  maxConnections: 10,
  minPollIntervalSeconds: 60,
  connectTimeoutSeconds: 30,
  greetingTimeoutSeconds: 15,
  socketTimeoutSeconds: 300,
  // Event-loop delay above which no new cycle starts: the machine is already behind.
  maxEventLoopDelayMs: 200,
  folders: ['INBOX'],
  // A server may ask for a long backoff; beyond an hour a mailbox would look dead to its users.
  maxBackoffSeconds: 3_600,
  // Autodiscover answers change rarely; an hour keeps DNS and HTTP traffic low for large fleets.
  autodiscoverCacheSeconds: 3_600,
  autodiscoverTimeoutSeconds: 10,
  // Shared with the alert rules, dashboards and panel: the reasons are in @mailsync/contract.
  intermittentWindowSeconds: INTERMITTENT_WINDOW_SECONDS,
  longTestEnableSeconds: LONG_TEST_ENABLE_SECONDS,
  // B: a lease outlives two failed renewals (every ttl/3); the unleased alert assumes it (@mailsync/contract).
  leaseSeconds: DEFAULT_LEASE_SECONDS,
  // The product scans the Pending Send queue every 5 minutes.
  outgoingScanIntervalSeconds: 300,
  // Queued emails (with attachments) above this are refused at queue time; most providers cap at 25-35 MB.
  maxOutgoingEmailBytes: 25 * 1024 * 1024,
  outgoingMaxConnections: 3,
  // G: new mail pushed by IMAP IDLE where the server offers it; the poll stays for other folders.
  incomingPush: 'idle',
  // RFC 2177: a server may drop a client idle for 30 minutes; 25 keeps well inside that.
  idleRestartSeconds: 1_500,
  outgoingBatch: 50,
  // C: the product syncs appointments, contacts and tasks every 5-15 minutes; they change less often than mail.
  actIntervalSeconds: 900,
  actMaxConnections: 4,
  actRequestTimeoutSeconds: 60,
  ...FEED_DEFAULTS,
  // C: how often a runner looks whether another runner changed the store's profiles and mailboxes.
  definitionsPollSeconds: 5,
  // The Mozilla autoconfig convention: the provider's own host first, then the well-known path.
  autoconfigUrls: [
    'https://autoconfig.{domain}/mail/config-v1.1.xml?emailaddress={address}',
    'https://{domain}/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress={address}',
  ],
} as const;
