import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { configSchema, DEFAULTS } from './schema.js';

// Each default is written once: leaves carry `.default(value)`, sections `.prefault({})` so that
// zod runs the section's own schema (and its leaf defaults) when the section is omitted. These
// tests fail if a section's default were written out again (and could drift from its leaves), or
// if DEFAULTS said something other than what a config gets.

/** The smallest valid input with one of each list entry, so defaults inside lists are visible. */
const minimal = () => ({
  organization: { id: 'o' },
  profiles: [{ id: 'p', incoming: { host: 'imap.example' }, outgoing: { host: 'smtp.example' }, act: {} }],
  mailboxes: [{ id: 'm', address: 'm@example.com', profile: 'p' }],
  webhooks: [{ id: 'w', url: 'https://hooks.example/mailsync', secret: 'x' }],
});

type Path = (string | number)[];
interface Found { defaults: { path: Path; value: unknown; inner: string }[]; prefaults: { path: Path; value: unknown }[] }

/** Walks the schema's definition; list elements are reached at index 0, as in `minimal()`. */
function walk(schema: z.ZodType, path: Path = [], found: Found = { defaults: [], prefaults: [] }): Found {
  const def = schema.def as unknown as Record<string, unknown> & { type: string };
  const inner = (key: string) => def[key] as z.ZodType;
  switch (def.type) {
    case 'default':
      found.defaults.push({ path, value: def.defaultValue, inner: inner('innerType').def.type });
      return walk(inner('innerType'), path, found);
    case 'prefault':
      found.prefaults.push({ path, value: def.defaultValue });
      return walk(inner('innerType'), path, found);
    case 'optional':
      return walk(inner('innerType'), path, found);
    case 'pipe':
      return walk(inner('in'), path, found);
    case 'array':
      return walk(inner('element'), [...path, 0], found);
    case 'object':
      for (const [key, child] of Object.entries(def.shape as Record<string, z.ZodType>)) walk(child, [...path, key], found);
      return found;
    default:
      return found;
  }
}

function at(value: unknown, path: Path): unknown {
  return path.reduce<unknown>((v, key) => (v as Record<string | number, unknown> | undefined)?.[key], value);
}

function withValue(input: unknown, path: Path, value: unknown): unknown {
  const copy = structuredClone(input) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Record<string | number, unknown>;
  node[path[path.length - 1]!] = value;
  return copy;
}

const found = walk(configSchema);

describe('config defaults', () => {
  it('writes no section default out: sections use .prefault({}), leaves .default(value)', () => {
    expect(found.prefaults.length).toBeGreaterThan(10);
    for (const p of found.prefaults) expect([p.path.join('.'), p.value]).toEqual([p.path.join('.'), {}]);
    for (const d of found.defaults) expect([d.path.join('.'), d.inner]).not.toEqual([d.path.join('.'), 'object']);
  });

  it('gives a minimal config every leaf default as written in the schema', () => {
    const parsed = configSchema.parse(minimal());
    // The lists `minimal()` fills in (profiles, mailboxes) are given, not defaulted.
    const applied = found.defaults.filter((d) => at(minimal(), d.path) === undefined);
    expect(applied.length).toBeGreaterThan(40);
    for (const d of applied) expect([d.path.join('.'), at(parsed, d.path)]).toEqual([d.path.join('.'), d.value]);
  });

  it('gives the same config whether an optional section is omitted or written as {}', () => {
    const omitted = configSchema.parse(minimal());
    for (const p of found.prefaults) {
      expect([p.path.join('.'), configSchema.parse(withValue(minimal(), p.path, {}))]).toEqual([p.path.join('.'), omitted]);
    }
  });

  it('applies every named default in DEFAULTS at its key', () => {
    const c = configSchema.parse(minimal());
    const [profile, mailbox, webhook] = [c.profiles[0]!, c.mailboxes[0]!, c.webhooks[0]!];
    const applied: Record<keyof typeof DEFAULTS, unknown> = {
      listen: c.server.listen,
      storePath: c.store.path,
      logLevel: c.log.level,
      maxTransientRetries: c.organization.retry.maxTransientRetries,
      retryIntervalSeconds: c.organization.retry.intervalSeconds,
      maxBackoffSeconds: c.organization.retry.maxBackoffSeconds,
      pollIntervalSeconds: c.sync.pollIntervalSeconds,
      jitterRatio: c.sync.jitterRatio,
      maxConcurrentCycles: c.sync.maxConcurrentCycles,
      batchSize: c.sync.batchSize,
      maxMessageBytes: c.sync.maxMessageBytes,
      maxEventLoopDelayMs: c.sync.maxEventLoopDelayMs,
      outgoingScanIntervalSeconds: c.sync.outgoing.scanIntervalSeconds,
      maxOutgoingEmailBytes: c.sync.outgoing.maxEmailBytes,
      outgoingBatch: c.sync.outgoing.batchSize,
      maxConnections: profile.maxConnections,
      minPollIntervalSeconds: profile.minPollIntervalSeconds,
      connectTimeoutSeconds: profile.timeouts.connectSeconds,
      greetingTimeoutSeconds: profile.timeouts.greetingSeconds,
      socketTimeoutSeconds: profile.timeouts.socketSeconds,
      outgoingMaxConnections: profile.outgoing?.maxConnections,
      actIntervalSeconds: profile.act?.intervalSeconds,
      actMaxConnections: profile.act?.maxConnections,
      actRequestTimeoutSeconds: profile.act?.requestTimeoutSeconds,
      incomingPush: profile.incoming.push,
      idleRestartSeconds: profile.incoming.idleRestartSeconds,
      folders: mailbox.folders,
      autodiscoverCacheSeconds: c.autodiscover.cacheSeconds,
      autodiscoverTimeoutSeconds: c.autodiscover.timeoutSeconds,
      autoconfigUrls: c.autodiscover.autoconfigUrls,
      intermittentWindowSeconds: c.metrics.intermittentWindowSeconds,
      longTestEnableSeconds: c.metrics.longTestEnableSeconds,
      feedRetentionDays: c.feed.retentionDays,
      feedMaxChanges: c.feed.maxChanges,
      webhookTimeoutSeconds: webhook.timeoutSeconds,
      webhookMaxAttempts: webhook.maxAttempts,
      webhookRetryInitialSeconds: webhook.retryInitialSeconds,
      webhookRetryMaxSeconds: webhook.retryMaxSeconds,
      webhookConcurrency: webhook.concurrency,
      definitionsPollSeconds: c.definitions.pollSeconds,
      leaseSeconds: c.leases.seconds,
    };
    expect(applied).toEqual(DEFAULTS);
  });

  it('resolves ports and sending limits in the schema', () => {
    const c = configSchema.parse(withValue(minimal(), ['profiles', 0, 'outgoing', 'limits'], { preset: 'microsoft365' }));
    expect(c.profiles[0]?.incoming.port).toBe(993);
    expect(c.profiles[0]?.outgoing).toMatchObject({ port: 587, limits: { messagesPerMinute: 30, recipientsPerDay: 10_000 } });
    expect(configSchema.parse(minimal()).profiles[0]?.outgoing?.limits).toEqual({ messagesPerMinute: undefined, recipientsPerDay: undefined });
  });
});
