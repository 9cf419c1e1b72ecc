import { z } from 'zod';
import { INCOMING_FILTERS } from '../policy/incoming-filter.js';
import { CHANGE_KINDS } from '../store/feed-types.js';

/** F: the defaults of the feed, webhooks and incoming filter keys (spread into DEFAULTS). */
export const FEED_DEFAULTS = {
  // A month of changes lets a consumer that was down for a while resume; beyond a million rows the oldest go first.
  feedRetentionDays: 30,
  feedMaxChanges: 1_000_000,
  webhookTimeoutSeconds: 10,
  // 12 attempts from 10 s doubling to at most an hour: about 3.4 hours of retries (plus jitter) before dead-letter.
  webhookMaxAttempts: 12,
  webhookRetryInitialSeconds: 10,
  webhookRetryMaxSeconds: 3_600,
  webhookConcurrency: 8,
} as const;

/**
 * A mailbox's `incoming` as an object: the direction on or off, and the filter of what reaches the
 * change feed and webhooks. `incoming: true/false` stays valid.
 */
export const incomingSettings = z.strictObject({
  enabled: z.boolean().default(true),
  filter: z.enum(INCOMING_FILTERS).default('all'),
  knownSenders: z.array(z.email({ error: 'must be an email address' }).transform((a) => a.toLowerCase())).max(100_000).default([]),
});

/** Consumers see `incoming` as a boolean, however it was written, and the filter as `incomingFilter`. */
export function splitIncoming<M extends { incoming: boolean | z.output<typeof incomingSettings> }>({ incoming, ...m }: M) {
  return {
    ...m,
    incoming: typeof incoming === 'boolean' ? incoming : incoming.enabled,
    incomingFilter: typeof incoming === 'boolean'
      ? { mode: 'all' as const, knownSenders: [] as string[] }
      : { mode: incoming.filter, knownSenders: incoming.knownSenders },
  };
}

/** The `feed:` and `webhooks:` sections, built from schema.ts's shared pieces (passed in: no import cycle). */
export function feedSchemas<S extends z.ZodType>(p: { id: z.ZodString; secretInput: S; seconds: (max: number) => z.ZodNumber }) {
  const feedSchema = z.strictObject({
    retentionDays: z.number().int().min(1).max(3_650).default(FEED_DEFAULTS.feedRetentionDays),
    maxChanges: z.number().int().min(1_000).max(1_000_000_000).default(FEED_DEFAULTS.feedMaxChanges),
  });
  const webhookSchema = z.strictObject({
    id: p.id,
    url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
    events: z.array(z.enum(CHANGE_KINDS)).min(1).default([...CHANGE_KINDS]),
    secret: p.secretInput,
    timeoutSeconds: p.seconds(300).default(FEED_DEFAULTS.webhookTimeoutSeconds),
    maxAttempts: z.number().int().min(1).max(100).default(FEED_DEFAULTS.webhookMaxAttempts),
    retryInitialSeconds: p.seconds(86_400).default(FEED_DEFAULTS.webhookRetryInitialSeconds),
    retryMaxSeconds: p.seconds(86_400).default(FEED_DEFAULTS.webhookRetryMaxSeconds),
    concurrency: z.number().int().min(1).max(256).default(FEED_DEFAULTS.webhookConcurrency),
  });
  return { feedSchema, webhookSchema };
}
