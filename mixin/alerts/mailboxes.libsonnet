// Generated from alerts/src and dashboards/src by `npm run mixin:generate`; do not edit by hand.
{
  prometheusAlerts+:: {
    groups+: [
      {
        name: 'mailsync-mailboxes',
        rules: [
          {
            alert: 'MailsyncMailboxSecureConnectionFailed',
            expr: 'mailsync_mailbox_disabled{%(mailsyncSelector)s, code=~"secure_connection_failed"} == 1' % $._config,
            'for': $._config.disabledFor,
            labels: {
              severity: 'critical',
            },
            annotations: {
              summary: 'Mailbox disabled: no secure connection to its mail server.',
              description: 'mailsync disabled {{ $labels.direction }} sync of {{ with printf "mailsync_mailbox_info{mailbox=%q, instance=%q, job=%q}" $labels.mailbox $labels.instance $labels.job | query }}{{ with . | first }}{{ .Labels.address }} (mailbox {{ $labels.mailbox }}, profile {{ .Labels.profile }}){{ end }}{{ else }}mailbox {{ $labels.mailbox }}{{ end }}: TLS to the server failed (untrusted, expired or wrong-name certificate, or STARTTLS not offered). Fix the cause, then run Test & Enable (`mailsync mailboxes test-enable {{ $labels.mailbox }}`).',
              runbook_url: $._config.runbookURLPattern % 'mailsyncmailboxsecureconnectionfailed',
            },
          },
          {
            alert: 'MailsyncMailboxAdminApprovalRequired',
            expr: 'mailsync_mailbox_disabled{%(mailsyncSelector)s, code=~"admin_approval_required"} == 1' % $._config,
            'for': $._config.disabledFor,
            labels: {
              severity: 'critical',
            },
            annotations: {
              summary: 'Mailbox waits for an administrator to approve its address.',
              description: '{{ with printf "mailsync_mailbox_info{mailbox=%q, instance=%q, job=%q}" $labels.mailbox $labels.instance $labels.job | query }}{{ with . | first }}{{ .Labels.address }} (mailbox {{ $labels.mailbox }}, profile {{ .Labels.profile }}){{ end }}{{ else }}mailbox {{ $labels.mailbox }}{{ end }} uses a trusted (impersonation) profile and has not been approved by an admin, so mailsync does not contact it. An admin approves it with `mailsync mailboxes approve {{ $labels.mailbox }}`.',
              runbook_url: $._config.runbookURLPattern % 'mailsyncmailboxadminapprovalrequired',
            },
          },
          {
            alert: 'MailsyncMailboxOAuthConsentRequired',
            expr: 'mailsync_mailbox_disabled{%(mailsyncSelector)s, code=~"oauth_consent_required"} == 1' % $._config,
            'for': $._config.disabledFor,
            labels: {
              severity: 'critical',
            },
            annotations: {
              summary: "Mailbox disabled: an administrator of the mail provider must approve (consent to) mailsync's OAuth2 application.",
              description: 'The token endpoint of {{ with printf "mailsync_mailbox_info{mailbox=%q, instance=%q, job=%q}" $labels.mailbox $labels.instance $labels.job | query }}{{ with . | first }}{{ .Labels.address }} (mailbox {{ $labels.mailbox }}, profile {{ .Labels.profile }}){{ end }}{{ else }}mailbox {{ $labels.mailbox }}{{ end }} says the OAuth2 application lacks an administrator\'s consent for mail (Microsoft AADSTS65001, Google domain-wide delegation not authorised). An administrator of the provider grants it; then run Test & Enable (`mailsync mailboxes test-enable {{ $labels.mailbox }}`).',
              runbook_url: $._config.runbookURLPattern % 'mailsyncmailboxoauthconsentrequired',
            },
          },
          {
            alert: 'MailsyncMailboxApprovalRequired',
            expr: 'mailsync_mailbox_disabled{%(mailsyncSelector)s, code=~"email_address_not_approved"} == 1' % $._config,
            'for': $._config.disabledFor,
            labels: {
              severity: 'critical',
            },
            annotations: {
              summary: 'Mailbox not synced: its email address is not approved.',
              description: 'The organization processes mail only for approved mailboxes and {{ with printf "mailsync_mailbox_info{mailbox=%q, instance=%q, job=%q}" $labels.mailbox $labels.instance $labels.job | query }}{{ with . | first }}{{ .Labels.address }} (mailbox {{ $labels.mailbox }}, profile {{ .Labels.profile }}){{ end }}{{ else }}mailbox {{ $labels.mailbox }}{{ end }} is not approved; mailsync does not contact it. Approve it with `mailsync mailboxes approve {{ $labels.mailbox }}` (or reject it).',
              runbook_url: $._config.runbookURLPattern % 'mailsyncmailboxapprovalrequired',
            },
          },
          {
            alert: 'MailsyncMailboxLocationUnknown',
            expr: 'mailsync_mailbox_disabled{%(mailsyncSelector)s, code=~"mailbox_location_unknown"} == 1' % $._config,
            'for': $._config.disabledFor,
            labels: {
              severity: 'critical',
            },
            annotations: {
              summary: 'Mailbox disabled: autodiscover cannot find its mail server.',
              description: 'mailsync disabled {{ $labels.direction }} sync of {{ with printf "mailsync_mailbox_info{mailbox=%q, instance=%q, job=%q}" $labels.mailbox $labels.instance $labels.job | query }}{{ with . | first }}{{ .Labels.address }} (mailbox {{ $labels.mailbox }}, profile {{ .Labels.profile }}){{ end }}{{ else }}mailbox {{ $labels.mailbox }}{{ end }}: autodiscover found no server for the address (no DNS SRV record, no autoconfig document). Fix the cause, then run Test & Enable (`mailsync mailboxes test-enable {{ $labels.mailbox }}`).',
              runbook_url: $._config.runbookURLPattern % 'mailsyncmailboxlocationunknown',
            },
          },
          {
            alert: 'MailsyncMailboxCredentialsRejected',
            expr: 'mailsync_mailbox_disabled{%(mailsyncSelector)s, code=~"credentials_rejected|insufficient_permissions"} == 1' % $._config,
            'for': $._config.disabledFor,
            labels: {
              severity: 'critical',
            },
            annotations: {
              summary: 'Mailbox disabled: credentials are incorrect or lack permissions.',
              description: 'mailsync disabled {{ $labels.direction }} sync of {{ with printf "mailsync_mailbox_info{mailbox=%q, instance=%q, job=%q}" $labels.mailbox $labels.instance $labels.job | query }}{{ with . | first }}{{ .Labels.address }} (mailbox {{ $labels.mailbox }}, profile {{ .Labels.profile }}){{ end }}{{ else }}mailbox {{ $labels.mailbox }}{{ end }} with {{ $labels.code }}. Scope tells whose credentials: see the mailbox\'s last error (`mailsync mailboxes show {{ $labels.mailbox }}`). Fix the cause, then run Test & Enable (`mailsync mailboxes test-enable {{ $labels.mailbox }}`).',
              runbook_url: $._config.runbookURLPattern % 'mailsyncmailboxcredentialsrejected',
            },
          },
          {
            alert: 'MailsyncMailboxConfiguredInAnotherOrg',
            expr: 'mailsync_mailbox_disabled{%(mailsyncSelector)s, code=~"configured_in_another_org"} == 1' % $._config,
            'for': $._config.disabledFor,
            labels: {
              severity: 'critical',
            },
            annotations: {
              summary: 'Mailbox disabled: another deployment marked it as its own.',
              description: '{{ with printf "mailsync_mailbox_info{mailbox=%q, instance=%q, job=%q}" $labels.mailbox $labels.instance $labels.job | query }}{{ with . | first }}{{ .Labels.address }} (mailbox {{ $labels.mailbox }}, profile {{ .Labels.profile }}){{ end }}{{ else }}mailbox {{ $labels.mailbox }}{{ end }} carries another organization\'s ownership mark, so mailsync does not sync it. If this deployment should own it, run `mailsync mailboxes test-enable {{ $labels.mailbox }} --this-organization-only`.',
              runbook_url: $._config.runbookURLPattern % 'mailsyncmailboxconfiguredinanotherorg',
            },
          },
          {
            alert: 'MailsyncMailboxInsecureChannelRefused',
            expr: 'mailsync_mailbox_disabled{%(mailsyncSelector)s, code=~"insecure_channel_refused"} == 1' % $._config,
            'for': $._config.disabledFor,
            labels: {
              severity: 'critical',
            },
            annotations: {
              summary: 'Mailbox disabled: credentials would cross a channel without TLS.',
              description: 'mailsync refused to send the credentials of {{ with printf "mailsync_mailbox_info{mailbox=%q, instance=%q, job=%q}" $labels.mailbox $labels.instance $labels.job | query }}{{ with . | first }}{{ .Labels.address }} (mailbox {{ $labels.mailbox }}, profile {{ .Labels.profile }}){{ end }}{{ else }}mailbox {{ $labels.mailbox }}{{ end }} over a channel without TLS (secure mode required). Configure TLS for the profile, or allow it deliberately in the organization settings. Fix the cause, then run Test & Enable (`mailsync mailboxes test-enable {{ $labels.mailbox }}`).',
              runbook_url: $._config.runbookURLPattern % 'mailsyncmailboxinsecurechannelrefused',
            },
          },
          {
            alert: 'MailsyncMailboxDisabled',
            expr: 'mailsync_mailbox_disabled{%(mailsyncSelector)s, code!~"secure_connection_failed|admin_approval_required|email_address_not_approved|mailbox_location_unknown|credentials_rejected|insufficient_permissions|configured_in_another_org|insecure_channel_refused|oauth_consent_required"} == 1' % $._config,
            'for': $._config.disabledFor,
            labels: {
              severity: 'critical',
            },
            annotations: {
              summary: 'Mailbox disabled for synchronization.',
              description: 'mailsync disabled {{ $labels.direction }} sync of {{ with printf "mailsync_mailbox_info{mailbox=%q, instance=%q, job=%q}" $labels.mailbox $labels.instance $labels.job | query }}{{ with . | first }}{{ .Labels.address }} (mailbox {{ $labels.mailbox }}, profile {{ .Labels.profile }}){{ end }}{{ else }}mailbox {{ $labels.mailbox }}{{ end }} with {{ $labels.code }} (a permanent failure, or a transient one that used up its retries). Fix the cause, then run Test & Enable (`mailsync mailboxes test-enable {{ $labels.mailbox }}`).',
              runbook_url: $._config.runbookURLPattern % 'mailsyncmailboxdisabled',
            },
          },
          {
            alert: 'MailsyncMailboxRetryBudgetBurning',
            expr: '(mailsync_mailbox_consecutive_failures{%(mailsyncSelector)s} >= %(retryBudgetWarnFailures)s)\nand on(mailbox, direction) (mailsync_mailbox_enabled{%(mailsyncSelector)s} == 1)' % $._config,
            'for': '0s',
            labels: {
              severity: 'warning',
            },
            annotations: {
              summary: 'Mailbox keeps failing and will soon be disabled.',
              description: '{{ $labels.direction }} sync of {{ with printf "mailsync_mailbox_info{mailbox=%q, instance=%q, job=%q}" $labels.mailbox $labels.instance $labels.job | query }}{{ with . | first }}{{ .Labels.address }} (mailbox {{ $labels.mailbox }}, profile {{ .Labels.profile }}){{ end }}{{ else }}mailbox {{ $labels.mailbox }}{{ end }} failed {{ $value }} times in a row; mailsync disables it once its {{ with printf "mailsync_config_max_transient_retries{instance=%q, job=%q}" $labels.instance $labels.job | query }}{{ . | first | value }}{{ else }}configured{{ end }} retries (organization.retry.maxTransientRetries) are used up. See `mailsync mailboxes show {{ $labels.mailbox }}` for the error.',
              runbook_url: $._config.runbookURLPattern % 'mailsyncmailboxretrybudgetburning',
            },
          },
          {
            alert: 'MailsyncMailboxNotSyncing',
            expr: '(time() - mailsync_mailbox_last_success_timestamp_seconds{%(mailsyncSelector)s} > %(notSyncingSeconds)s)\nand on(mailbox, direction) (mailsync_mailbox_enabled{%(mailsyncSelector)s} == 1)' % $._config,
            'for': $._config.conditionFor,
            labels: {
              severity: 'warning',
            },
            annotations: {
              summary: 'Enabled mailbox has not synced successfully for a long time.',
              description: '{{ $labels.direction }} sync of {{ with printf "mailsync_mailbox_info{mailbox=%q, instance=%q, job=%q}" $labels.mailbox $labels.instance $labels.job | query }}{{ with . | first }}{{ .Labels.address }} (mailbox {{ $labels.mailbox }}, profile {{ .Labels.profile }}){{ end }}{{ else }}mailbox {{ $labels.mailbox }}{{ end }} is enabled but last succeeded {{ $value | humanizeDuration }} ago.',
              runbook_url: $._config.runbookURLPattern % 'mailsyncmailboxnotsyncing',
            },
          },
          {
            alert: 'MailsyncMailboxTestEnableTakingLong',
            expr: 'time() - mailsync_mailbox_test_started_timestamp_seconds{%(mailsyncSelector)s} > %(testEnableLongSeconds)s' % $._config,
            'for': '0s',
            labels: {
              severity: 'warning',
            },
            annotations: {
              summary: 'Test & Enable has been scheduled or running for a long time.',
              description: 'Test & Enable of {{ with printf "mailsync_mailbox_info{mailbox=%q, instance=%q, job=%q}" $labels.mailbox $labels.instance $labels.job | query }}{{ with . | first }}{{ .Labels.address }} (mailbox {{ $labels.mailbox }}, profile {{ .Labels.profile }}){{ end }}{{ else }}mailbox {{ $labels.mailbox }}{{ end }} was requested {{ $value | humanizeDuration }} ago and has not finished.',
              runbook_url: $._config.runbookURLPattern % 'mailsyncmailboxtestenabletakinglong',
            },
          },
          {
            alert: 'MailsyncAppointmentOrganizerMissing',
            expr: 'increase(mailsync_mailbox_items_failed_total{%(mailsyncSelector)s, code="appointment_organizer_missing"}[1h]) > 0\nor\n(mailsync_mailbox_items_failed_total{%(mailsyncSelector)s, code="appointment_organizer_missing"} > 0 unless mailsync_mailbox_items_failed_total{%(mailsyncSelector)s, code="appointment_organizer_missing"} offset 1h)' % $._config,
            'for': '0s',
            labels: {
              severity: 'warning',
            },
            annotations: {
              summary: 'Appointments cannot be synchronized: organizer missing.',
              description: '{{ $value | humanize }} appointments of {{ with printf "mailsync_mailbox_info{mailbox=%q, instance=%q, job=%q}" $labels.mailbox $labels.instance $labels.job | query }}{{ with . | first }}{{ .Labels.address }} (mailbox {{ $labels.mailbox }}, profile {{ .Labels.profile }}){{ end }}{{ else }}mailbox {{ $labels.mailbox }}{{ end }} had no organizer in the last hour and were not synchronized; the mailbox keeps syncing.',
              runbook_url: $._config.runbookURLPattern % 'mailsyncappointmentorganizermissing',
            },
          },
          {
            alert: 'MailsyncItemsFailing',
            expr: 'increase(mailsync_mailbox_items_failed_total{%(mailsyncSelector)s, code!~"appointment_organizer_missing|no_correlation_match|no_recipient_match"}[1h]) > 0\nor\n(mailsync_mailbox_items_failed_total{%(mailsyncSelector)s, code!~"appointment_organizer_missing|no_correlation_match|no_recipient_match"} > 0 unless mailsync_mailbox_items_failed_total{%(mailsyncSelector)s, code!~"appointment_organizer_missing|no_correlation_match|no_recipient_match"} offset 1h)' % $._config,
            'for': '0s',
            labels: {
              severity: 'info',
            },
            annotations: {
              summary: 'Some emails of a mailbox failed to sync.',
              description: '{{ $value | humanize }} items of {{ with printf "mailsync_mailbox_info{mailbox=%q, instance=%q, job=%q}" $labels.mailbox $labels.instance $labels.job | query }}{{ with . | first }}{{ .Labels.address }} (mailbox {{ $labels.mailbox }}, profile {{ .Labels.profile }}){{ end }}{{ else }}mailbox {{ $labels.mailbox }}{{ end }} failed with {{ $labels.code }} in the last hour; the mailbox keeps syncing. `mailsync mailboxes show {{ $labels.mailbox }}` lists them.',
              runbook_url: $._config.runbookURLPattern % 'mailsyncitemsfailing',
            },
          },
          {
            alert: 'MailsyncPendingSendStuck',
            expr: 'mailsync_mailbox_pending_send_oldest_age_seconds{%(mailsyncSelector)s} > %(pendingSendStuckSeconds)s' % $._config,
            'for': $._config.conditionFor,
            labels: {
              severity: 'warning',
            },
            annotations: {
              summary: 'Email stays Pending Send.',
              description: 'The oldest email waiting to be sent from {{ with printf "mailsync_mailbox_info{mailbox=%q, instance=%q, job=%q}" $labels.mailbox $labels.instance $labels.job | query }}{{ with . | first }}{{ .Labels.address }} (mailbox {{ $labels.mailbox }}, profile {{ .Labels.profile }}){{ end }}{{ else }}mailbox {{ $labels.mailbox }}{{ end }} has waited {{ $value | humanizeDuration }}: outgoing sync is not enabled or not working for the mailbox.',
              runbook_url: $._config.runbookURLPattern % 'mailsyncpendingsendstuck',
            },
          },
          {
            alert: 'MailsyncProviderLimitsReached',
            expr: 'increase(mailsync_mailbox_sync_errors_total{%(mailsyncSelector)s, code=~"provider_throttled|sending_limit_exceeded"}[1h]) > 0\nor\n(mailsync_mailbox_sync_errors_total{%(mailsyncSelector)s, code=~"provider_throttled|sending_limit_exceeded"} > 0 unless mailsync_mailbox_sync_errors_total{%(mailsyncSelector)s, code=~"provider_throttled|sending_limit_exceeded"} offset 1h)' % $._config,
            'for': '0s',
            labels: {
              severity: 'warning',
            },
            annotations: {
              summary: 'The mail provider throttled the mailbox or its sending limit was reached.',
              description: '{{ with printf "mailsync_mailbox_info{mailbox=%q, instance=%q, job=%q}" $labels.mailbox $labels.instance $labels.job | query }}{{ with . | first }}{{ .Labels.address }} (mailbox {{ $labels.mailbox }}, profile {{ .Labels.profile }}){{ end }}{{ else }}mailbox {{ $labels.mailbox }}{{ end }} hit the provider\'s limits ({{ $labels.code }}, {{ $value | humanize }} times in the last hour). mailsync waits as the provider asks; if it persists, spread the load or raise the provider\'s limits.',
              runbook_url: $._config.runbookURLPattern % 'mailsyncproviderlimitsreached',
            },
          },
        ],
      },
    ],
  },
}
