/**
 * Defaults several parts must agree on: the runner's config uses them when a key is absent, and
 * the alert rules, dashboards and panel assume them, so a change here moves all of them at once.
 */

/**
 * Test & Enable normally takes seconds; a quarter of an hour means it is stuck or queued behind
 * others (the product's "of them taking over a long time").
 */
export const LONG_TEST_ENABLE_SECONDS = 900;

/**
 * Transient failures retried before the direction is disabled (the 11th in a row disables it): with
 * the 5-minute retry interval that is about 50 minutes for a server to come back on its own.
 */
export const DEFAULT_RETRY_BUDGET = 10;

/** The product calls a mailbox with failures in the last hour "intermittent" while it still runs. */
export const INTERMITTENT_WINDOW_SECONDS = 3_600;

/**
 * B: how long a runner's lease on a mailbox direction lasts without a renewal (renewed every
 * third of it). The unleased alert waits two lease periods: one for the holder's lease to run out,
 * one for another runner's claim round to take it.
 */
export const DEFAULT_LEASE_SECONDS = 30;
