/**
 * The directions a mailbox syncs in: mail in (IMAP), mail out (SMTP), and appointments, contacts
 * and tasks (ACT, reserved). Each is enabled, disabled and retried on its own, so this list is the
 * key of per-direction state in the store, the metrics' `direction` label, the alert rules and the
 * dashboards' filter.
 */
const directionNames = ['incoming', 'outgoing', 'act'] as const;
export type Direction = (typeof directionNames)[number];
// A plain readonly list (not a tuple), as the API's z.enum casts expect.
export const DIRECTIONS: readonly Direction[] = directionNames;
