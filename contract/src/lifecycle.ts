/**
 * A mailbox's approval: `empty` until someone asks, then `pending`, and a person's decision. The
 * store, the API's filter and the CLI share these words.
 */
const approvalNames = ['empty', 'pending', 'approved', 'rejected'] as const;
export type Approval = (typeof approvalNames)[number];
// A plain readonly list (not a tuple), as the API's z.enum casts expect.
export const APPROVALS: readonly Approval[] = approvalNames;

/**
 * Where a mailbox's Test & Enable is: `scheduled` (recorded, waiting for a slot) and `running`
 * count as the `testing` health bucket; `completed` keeps the last result.
 */
const testStateNames = ['none', 'scheduled', 'running', 'completed'] as const;
export type TestState = (typeof testStateNames)[number];
// A plain readonly list (not a tuple), as the API's z.enum casts expect.
export const TEST_STATES: readonly TestState[] = testStateNames;
