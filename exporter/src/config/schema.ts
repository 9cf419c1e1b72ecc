import { z } from 'zod';
import { oauth2Schema } from './oauth2-schema.js';
import { secretInput } from './secret-input.js';
import { feedSchemas, incomingSettings, splitIncoming } from './feed-schema.js';

import { DEFAULTS } from './defaults.js';
import { leasesSchema, runnerSchema, storeSchema } from './store-schema.js';

export { DEFAULTS };

const id = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
    error: 'must be 1-64 characters of letters, digits, ".", "_" or "-", starting with a letter or digit',
  });

const seconds = (max: number) => z.number().int().positive().max(max);

export const security = z.enum(['tls', 'starttls', 'none']);
export const authMode = z.enum(['mailbox', 'profile', 'impersonation', 'oauth2']);
export const role = z.enum(['viewer', 'operator', 'admin']);

export { secretInput } from './secret-input.js';
export { OAUTH2_PRESETS, oauth2Grant, oauth2Schema } from './oauth2-schema.js';

export const credentials = z.strictObject({
  username: z.string().min(1),
  password: secretInput,
});

const listen = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):\d{1,5}$/, { error: 'must be host:port, for example 127.0.0.1:9782 or :9782' })
  .refine((s) => {
    // Only judge the port once the shape is right; the regex above reports the rest.
    const port = Number(s.slice(s.lastIndexOf(':') + 1));
    return !s.includes(':') || !Number.isInteger(port) || port <= 65535;
  }, { error: 'port must be at most 65535' });

const startFrom = z.union([
  z.literal('all'),
  z.iso.date({ error: 'must be "all" or a date such as 2026-01-31' }),
]);

/**
 * Published sending limits of hosted providers (docs/configuration.md cites them). Microsoft 365:
 * 30 messages a minute and 10,000 recipients a day per mailbox; Google Workspace: 10,000
 * recipients a day, no published per-minute rate (60 keeps bursts moderate).
 */
export const LIMIT_PRESETS = {
  microsoft365: { messagesPerMinute: 30, recipientsPerDay: 10_000 },
  google_workspace: { messagesPerMinute: 60, recipientsPerDay: 10_000 },
} as const;

const INCOMING_PORTS = { imap: { tls: 993, plain: 143 }, pop3: { tls: 995, plain: 110 } } as const;

const SMTP_PORTS = { tls: 465, starttls: 587, none: 25 } as const;

export const outgoingSchema = z.strictObject({
  protocol: z.literal('smtp').default('smtp'),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).optional(),
  /** STARTTLS by default: submission on 587 is what providers offer. */
  security: security.default('starttls'),
  caFile: z.string().min(1).optional(),
  maxConnections: z.number().int().min(1).max(100).default(DEFAULTS.outgoingMaxConnections),
  /**
   * Where a copy of each sent email ends up: `server` (the provider saves it to Sent itself, as
   * Microsoft 365 and Gmail do), `append` (mailsync appends it to the Sent folder over IMAP), or
   * `none`. `server` and `append` let a restart find out whether an interrupted send got through.
   */
  sentCopy: z.enum(['server', 'append', 'none']).default('none'),
  /** A folder name, or an RFC 6154 special-use name: the server's `\\Sent` folder by default (`Sent Items`, `[Gmail]/Sent Mail`...). */
  sentFolder: z.string().min(1).default('\\Sent'),
  limits: z.union([
    z.strictObject({ preset: z.enum(Object.keys(LIMIT_PRESETS) as [keyof typeof LIMIT_PRESETS]) }),
    z.strictObject({
      messagesPerMinute: z.number().int().min(1).max(100_000).optional(),
      recipientsPerDay: z.number().int().min(1).max(10_000_000).optional(),
    }),
  ])
    // Consumers see the numbers only, whichever way they were written; undefined means no limit.
    .transform((limits): { messagesPerMinute: number | undefined; recipientsPerDay: number | undefined } =>
      'preset' in limits
        ? { ...LIMIT_PRESETS[limits.preset] }
        : { messagesPerMinute: limits.messagesPerMinute, recipientsPerDay: limits.recipientsPerDay })
    .prefault({}),
})
  // Submission ports by security; a port written in the file wins.
  .transform((o) => ({ ...o, port: o.port ?? SMTP_PORTS[o.security] }));

// C: the appointments, contacts and tasks server (CalDAV and CardDAV) of a profile.
const davUrl = z.string().regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, { error: 'must be an http(s) URL such as https://dav.example.com/' });
export const actSchema = z.strictObject({
  /**
   * Absent: found from each mailbox's address by RFC 6764 (`_caldavs._tcp`/`_carddavs._tcp` SRV,
   * then /.well-known/caldav and /.well-known/carddav). A URL without placeholders is the server's
   * root (the user's principal is asked for); with {localpart}, {address} or {user} it is the
   * home collection itself.
   */
  url: davUrl.optional(),
  caFile: z.string().min(1).optional(),
  intervalSeconds: seconds(86_400).default(DEFAULTS.actIntervalSeconds),
  maxConnections: z.number().int().min(1).max(1_000).default(DEFAULTS.actMaxConnections),
  requestTimeoutSeconds: seconds(600).default(DEFAULTS.actRequestTimeoutSeconds),
});

/**
 * An approval an administrator vouches for in the file, applied at start and on reload before any
 * mailbox is contacted (docs/configuration.md: approvals). The role is the approver's, as an API
 * token's would be; viewers cannot approve, so only these two are accepted.
 */
export const declaredApproval = z.strictObject({
  approvedBy: z.string().trim().min(1, { error: 'must name who approved (the audit log records it)' }).max(64),
  role: z.enum(['admin', 'operator'], { error: 'must be "admin" or "operator"' }),
});

export const profileSchema = z.strictObject({
  id,
  owner: z.string().min(1).optional(),
  incoming: z.strictObject({
    /** IMAP (folders, the ownership mark), or POP3 (the one maildrop, leave-on-server by UIDL). */
    protocol: z.enum(['imap', 'pop3']).default('imap'),
    /** Absent when the server is found by autodiscover from each mailbox's address. */
    host: z.string().min(1).optional(),
    autodiscover: z.boolean().default(false),
    port: z.number().int().min(1).max(65535).optional(),
    security: security.default('tls'),
    caFile: z.string().min(1).optional(),
    /** POP3 only. */
    pop3: z.strictObject({
      /** DELE each message once it is stored (off: mail stays on the server, like IMAP's read-only sync). */
      deleteAfterSync: z.boolean().default(false),
    }).prefault({}),
    /** G: `idle` waits in IDLE on INBOX between cycles where the server advertises it; `none` only polls. */
    push: z.enum(['idle', 'none'], { error: 'must be "idle" or "none"' }).default(DEFAULTS.incomingPush),
    /** G: each IDLE is ended and issued again after this long (below the server's 29-30 minute limit). */
    idleRestartSeconds: seconds(1_740).default(DEFAULTS.idleRestartSeconds),
  })
    // IMAPS on 993 (POP3S on 995), else the plain port (STARTTLS/STLS upgrades on it); a port written in the file wins.
    .transform((i) => ({ ...i, port: i.port ?? INCOMING_PORTS[i.protocol][i.security === 'tls' ? 'tls' : 'plain'] })),
  /** The SMTP server for outgoing email (Pending Send); required by mailboxes with `outgoing: true`. */
  outgoing: outgoingSchema.optional(),
  /** C: the CalDAV/CardDAV server; required by mailboxes with `act: true`. */
  act: actSchema.optional(),
  auth: z
    .strictObject({
      mode: authMode.default('mailbox'),
      credentials: credentials.optional(),
      oauth2: oauth2Schema.optional(),
    })
    .prefault({}),
  maxConnections: z.number().int().min(1).max(100_000).default(DEFAULTS.maxConnections),
  minPollIntervalSeconds: seconds(86_400).default(DEFAULTS.minPollIntervalSeconds),
  timeouts: z
    .strictObject({
      connectSeconds: seconds(600).default(DEFAULTS.connectTimeoutSeconds),
      greetingSeconds: seconds(600).default(DEFAULTS.greetingTimeoutSeconds),
      socketSeconds: seconds(3_600).default(DEFAULTS.socketTimeoutSeconds),
    })
    .prefault({}),
  /** The approval of every mailbox of this profile that declares none of its own. */
  approval: declaredApproval.optional(),
});

export const mailboxSchema = z.strictObject({
  id,
  address: z.email({ error: 'must be an email address' }),
  profile: id,
  incoming: z.union([z.boolean(), incomingSettings]).default(true),
  outgoing: z.boolean().default(false),
  act: z.boolean().default(false),
  folders: z.array(z.string().min(1)).min(1).default([...DEFAULTS.folders]),
  credentials: credentials.optional(),
  /** A: auth.mode oauth2 with grant refresh_token: the mailbox's initial refresh token (delegated consent). */
  refreshToken: secretInput.optional(),
  startFrom: startFrom.optional(),
  /** Approved in the file; wins over the profile's `approval`. */
  approval: declaredApproval.optional(),
}).transform(splitIncoming);

// F: the change feed's retention and the webhooks (config/feed-schema.ts).
const { feedSchema, webhookSchema } = feedSchemas({ id, secretInput, seconds });

export const configSchema = z.strictObject({
  server: z
    .strictObject({
      listen: listen.default(DEFAULTS.listen),
      /** The HTML status page at `/` (shows addresses: protect the listener, or turn it off). */
      statusPage: z.boolean().default(true),
    })
    .prefault({}),
  metrics: z
    .strictObject({
      /** Per-mailbox series; off for very large fleets (per-profile aggregates stay). */
      perMailboxSeries: z.boolean().default(true),
      intermittentWindowSeconds: seconds(604_800).default(DEFAULTS.intermittentWindowSeconds),
      longTestEnableSeconds: seconds(86_400).default(DEFAULTS.longTestEnableSeconds),
    })
    .prefault({}),
  store: storeSchema,
  // B: several runners on one shared store (docs/scaling.md).
  runner: runnerSchema,
  leases: leasesSchema,
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default(DEFAULTS.logLevel),
    })
    .prefault({}),
  organization: z.strictObject({
    id,
    processOnlyApproved: z.boolean().default(true),
    allowCredentialsOverInsecureChannel: z.boolean().default(false),
    allowNonTlsServers: z.boolean().default(false),
    requireAdminApprovalForTrustedProfiles: z.boolean().default(true),
    retry: z
      .strictObject({
        maxTransientRetries: z.number().int().min(0).max(1_000).default(DEFAULTS.maxTransientRetries),
        intervalSeconds: seconds(86_400).default(DEFAULTS.retryIntervalSeconds),
        maxBackoffSeconds: seconds(86_400).default(DEFAULTS.maxBackoffSeconds),
      })
      .prefault({}),
  }),
  autodiscover: z
    .strictObject({
      /** DNS servers for the SRV lookups as host:port; the system resolver when empty. */
      dnsServers: z.array(z.string().min(1)).default([]),
      autoconfigUrls: z
        .array(z.string().regex(/^https?:\/\/.*\{domain\}/, { error: 'must be an http(s) URL containing {domain}' }))
        .default([...DEFAULTS.autoconfigUrls]),
      cacheSeconds: seconds(604_800).default(DEFAULTS.autodiscoverCacheSeconds),
      timeoutSeconds: seconds(300).default(DEFAULTS.autodiscoverTimeoutSeconds),
    })
    .prefault({}),
  api: z
    .strictObject({
      tokens: z.array(z.strictObject({
        name: id,
        role,
        token: secretInput,
      })).default([]),
    })
    .prefault({}),
  sync: z
    .strictObject({
      pollIntervalSeconds: seconds(86_400).default(DEFAULTS.pollIntervalSeconds),
      jitterRatio: z.number().min(0).max(0.5).default(DEFAULTS.jitterRatio),
      maxConcurrentCycles: z.number().int().min(1).max(10_000).default(DEFAULTS.maxConcurrentCycles),
      batchSize: z.number().int().min(1).max(5_000).default(DEFAULTS.batchSize),
      maxMessageBytes: z.number().int().min(1_024).default(DEFAULTS.maxMessageBytes),
      maxEventLoopDelayMs: z.number().int().min(10).default(DEFAULTS.maxEventLoopDelayMs),
      startFrom: startFrom.default('all'),
      outgoing: z
        .strictObject({
          scanIntervalSeconds: seconds(86_400).default(DEFAULTS.outgoingScanIntervalSeconds),
          maxEmailBytes: z.number().int().min(1_024).max(200 * 1024 * 1024).default(DEFAULTS.maxOutgoingEmailBytes),
          batchSize: z.number().int().min(1).max(1_000).default(DEFAULTS.outgoingBatch),
        })
        .prefault({}),
    })
    .prefault({}),
  profiles: z.array(profileSchema).min(1, { error: 'at least one email server profile is needed' }),
  mailboxes: z.array(mailboxSchema).default([]),
  feed: feedSchema.prefault({}),
  // C: profiles and mailboxes defined in the store (definitions/, docs/configuration.md).
  definitions: z
    .strictObject({
      pollSeconds: seconds(3_600).default(DEFAULTS.definitionsPollSeconds),
    })
    .prefault({}),
  webhooks: z.array(webhookSchema).default([]),
});

export type RawConfig = z.output<typeof configSchema>;
export type SecretInput = z.output<typeof secretInput>;
