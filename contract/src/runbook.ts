/**
 * The runbook in the repository: alerts link to `#<alert name>`, the panel, the dashboards and the
 * API to `#<taxonomy code>`, so every link an operator follows lands on the same page.
 */
export const RUNBOOK_BASE_URL = 'https://github.com/mailsync/mailsync/blob/main/alerts/runbook.md';
