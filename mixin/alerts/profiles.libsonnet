// Generated from alerts/src and dashboards/src by `npm run mixin:generate`; do not edit by hand.
{
  prometheusAlerts+:: {
    groups+: [
      {
        name: 'mailsync-profiles',
        rules: [
          {
            alert: 'MailsyncProfileMailboxesFailing',
            expr: '(\n  max without(instance) (mailsync_profile_mailboxes_recently_failed{%(mailsyncSelector)s})\n  / on(profile, job) sum by (profile, job) (max without(instance) (mailsync_profile_mailboxes{%(mailsyncSelector)s}))\n  > %(profileFailingShare)s\n)\n* on(profile, job) group_left(owner) max without(instance) (mailsync_profile_info{%(mailsyncSelector)s})' % $._config,
            'for': '0s',
            labels: {
              severity: 'warning',
              notify: 'owner',
            },
            annotations: {
              summary: "More than half of a profile's mailboxes failed within the last hour.",
              description: "{{ $value | humanizePercentage }} of the mailboxes of profile {{ $labels.profile }} failed within the last hour: the server or the profile's settings are the likely cause. Owner: {{ $labels.owner }}.",
              runbook_url: $._config.runbookURLPattern % 'mailsyncprofilemailboxesfailing',
            },
          },
        ],
      },
    ],
  },
}
