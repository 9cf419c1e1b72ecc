// @mailsync/contract: the values and types the runner, the alert rules, the dashboards and the
// panel share, written once. Data and types only: no I/O, no dependencies.
export { DIRECTIONS, type Direction } from './directions.js';
export { HEALTH_BUCKETS, type Health } from './health.js';
export { APPROVALS, TEST_STATES, type Approval, type TestState } from './lifecycle.js';
export { RUNBOOK_BASE_URL } from './runbook.js';
export { JOB_SELECTOR } from './selector.js';
export { DEFAULT_LEASE_SECONDS, DEFAULT_RETRY_BUDGET, INTERMITTENT_WINDOW_SECONDS, LONG_TEST_ENABLE_SECONDS } from './thresholds.js';
export {
  FILTER_DECISION_CODES, TAXONOMY, type ErrorClass, type ErrorCode, type Level, type ReenableRule, type RetryRule, type Scope, type ScopeRule, type TaxonomyEntry,
} from './taxonomy.js';
