/**
 * The product's summary buckets (docs/metrics.md), one per mailbox, in the order its summary reads:
 * the exporter computes them, `mailsync_mailbox_health` carries them as a label, the panel and the
 * dashboards count them.
 */
const bucketNames = ['healthy', 'failing', 'intermittent', 'inactive', 'testing'] as const;
export type Health = (typeof bucketNames)[number];
// A plain readonly list (not a tuple), as the API's z.enum casts expect.
export const HEALTH_BUCKETS: readonly Health[] = bucketNames;
