/**
 * The Prometheus selector of mailsync's scrape jobs, in the alert rules and the dashboards alike:
 * jobs are named by whoever deploys the runner, so the default takes any job named mailsync-something.
 */
export const JOB_SELECTOR = 'job=~"mailsync.*"';
