// Generated from alerts/src and dashboards/src by `npm run mixin:generate`; do not edit by hand.
{
  _config+:: {
    // Selects the scrape jobs of mailsync, in every rule and in the dashboards' runner count.
    mailsyncSelector: 'job=~"mailsync.*"',
    // The runbook page, linked from the dashboards and the summary panel (error codes are its anchors).
    runbookURL: 'https://github.com/mailsync/mailsync/blob/main/alerts/runbook.md',
    // An alert's runbook_url, and an error code's link on the mailbox dashboard: %s is the anchor (the alert name in lower case, or the code).
    runbookURLPattern: self.runbookURL + '#%s',
    // Failures in a row before MailsyncMailboxRetryBudgetBurning warns (half the default retry budget).
    retryBudgetWarnFailures: 5,
    // An enabled mailbox without a successful run for this long is MailsyncMailboxNotSyncing.
    notSyncingSeconds: 10800,
    // Share of a profile's mailboxes failing within an hour above which its owner is told.
    profileFailingShare: 0.5,
    // Age of the oldest Pending Send email above which MailsyncPendingSendStuck fires.
    pendingSendStuckSeconds: 1800,
    // Test & Enable scheduled or running longer than this is "taking over a long time" (the alert and the summary panel).
    testEnableLongSeconds: 900,
    // `for` of the alerts on the runner being down or absent.
    exporterDownFor: '5m',
    // `for` of the mailbox-disabled alerts: mailsync's policy has already debounced the state.
    disabledFor: '0s',
    // `for` of the conditions measured over time (not syncing, Pending Send stuck).
    conditionFor: '15m',
    // `for` of MailsyncMailboxesUnleased: two lease periods of leases.seconds (set both together).
    unleasedFor: '60s',
    // uid of the synchronization performance dashboard (links between the dashboards follow it).
    performanceDashboardUid: 'mailsync-performance',
    // uid of the mailbox status dashboard (the summary panel and the tables link to it).
    mailboxDashboardUid: 'mailsync-mailbox',
  },
}
