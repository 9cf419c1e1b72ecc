import type { Registry } from 'prom-client';
import { assemble, type FleetInput } from './fleet.js';
import { OPENMETRICS_EOF, registryText, type ExpositionFormat } from './format.js';
import { LoopBudget } from './loop-budget.js';
import type { Holds, MailboxTextCache } from './mailbox-cache.js';
import { profileAggregates, type ProfileAggregates } from './profiles.js';

export interface ExpositionDeps {
  registry: Registry;
  /** Reads the fleet's state from the store; called once on every scrape (it may spend the scrape's loop budget). */
  fleet: (budget: LoopBudget) => Promise<FleetInput>;
  /** B: reads the lease rows for this scrape (the unleased gauge); throws when the store cannot. */
  readLeases?: () => Promise<void>;
  /** B: which mailbox directions this runner holds; absent: all of them. */
  holds?: Holds;
  mailboxCache: MailboxTextCache;
  /** Hands the per-profile collectors this scrape's aggregates (undefined: the store could not be read). */
  setProfiles: (aggregates: ProfileAggregates | undefined) => void;
  /** Told when reading the fleet failed (the rest of the scrape is still served). */
  storeFailed: (error: unknown) => void;
}

/**
 * The whole exposition, encoded: the store is read once, its per-profile aggregates go to the
 * prom-client collectors and its per-mailbox state is served after the registry's output, in the
 * text format or OpenMetrics (then ended by `# EOF` after the mailbox text). The cycles share
 * this event loop: between the steps (the store read, grouping the fleet, the mailbox text) the
 * scrape lets whatever waits run once it has held the loop for its budget, so that a
 * 10,000-mailbox scrape does not hold it for the whole scrape (docs/performance.md, bench:fleet).
 */
export function createExposition(d: ExpositionDeps): (format?: ExpositionFormat) => Promise<Buffer> {
  return async (format = 'prometheus') => {
    let mailboxChunks: Buffer[] = [];
    try {
      const budget = new LoopBudget();
      const input = await d.fleet(budget);
      await d.readLeases?.();
      await budget.spend();
      const fleet = assemble(input);
      await budget.spend();
      if (input.config.metrics.perMailboxSeries) mailboxChunks = (await d.mailboxCache.render(fleet, input, format, d.holds, budget)).chunks;
      await budget.spend();
      d.setProfiles(profileAggregates(fleet, input));
    } catch (error) {
      d.setProfiles(undefined);
      d.storeFailed(error);
    }
    // No await between setting the aggregates and this call: prom-client runs every collect()
    // synchronously when metrics() starts, so a concurrent scrape cannot swap the aggregates.
    const text = await registryText(d.registry, format);
    if (format !== 'openmetrics') return Buffer.concat([Buffer.from(text), ...mailboxChunks]);
    return Buffer.concat([Buffer.from(text.slice(0, -OPENMETRICS_EOF.length)), ...mailboxChunks, Buffer.from(OPENMETRICS_EOF)]);
  };
}
