import { JOB_SELECTOR, LONG_TEST_ENABLE_SECONDS, RUNBOOK_BASE_URL } from '@mailsync/contract';

/**
 * What the dashboards take from their deployment: the dashboards are built from such an object,
 * so the mixin generator can build them once more with stand-ins and turn those into jsonnet
 * `_config` references.
 */
export interface DashboardConfig {
  /** The scrape jobs (the runner's own `up` series). */
  selector: string;
  /** The runbook page, linked from every dashboard and the summary panel (codes are its anchors). */
  runbookUrl: string;
  /** One section of the runbook: `%s` is replaced by its anchor (an error code, a Grafana variable). */
  runbookUrlPattern: string;
  performanceUid: string;
  mailboxUid: string;
  /** The summary panel's "taking over a long time", in the panel's unit. */
  testEnableLongMinutes: number;
}

export const DASHBOARD_CONFIG: DashboardConfig = {
  selector: JOB_SELECTOR,
  runbookUrl: RUNBOOK_BASE_URL,
  runbookUrlPattern: `${RUNBOOK_BASE_URL}#%s`,
  performanceUid: 'mailsync-performance',
  mailboxUid: 'mailsync-mailbox',
  testEnableLongMinutes: LONG_TEST_ENABLE_SECONDS / 60,
};

/** A section of the runbook, by anchor. */
export function runbookSection(c: DashboardConfig, anchor: string): string {
  if (c.runbookUrlPattern.split('%s').length !== 2) {
    throw new Error(`runbookUrlPattern must contain %s exactly once, where the anchor goes: ${JSON.stringify(c.runbookUrlPattern)}`);
  }
  return c.runbookUrlPattern.replace('%s', anchor);
}
