// Generated from alerts/src and dashboards/src by `npm run mixin:generate`; do not edit by hand.
{
  prometheusAlerts+:: {
    groups+: [
      {
        name: 'mailsync-exporter',
        rules: [
          {
            alert: 'MailsyncExporterDown',
            expr: 'up{%(mailsyncSelector)s} == 0' % $._config,
            'for': $._config.exporterDownFor,
            labels: {
              severity: 'critical',
            },
            annotations: {
              summary: 'mailsync is down: no mailbox is being synced or watched.',
              description: 'Prometheus cannot scrape mailsync at {{ $labels.instance }}; while it is down no mail is synced and no mailbox alert can fire.',
              runbook_url: $._config.runbookURLPattern % 'mailsyncexporterdown',
            },
          },
          {
            alert: 'MailsyncExporterAbsent',
            expr: 'absent(up{%(mailsyncSelector)s})' % $._config,
            'for': $._config.exporterDownFor,
            labels: {
              severity: 'critical',
            },
            annotations: {
              summary: 'Prometheus has no mailsync target.',
              description: 'No scrape target matches the mailsync selector: the runner is not deployed or the scrape configuration lost it, so every mailsync alert is silent.',
              runbook_url: $._config.runbookURLPattern % 'mailsyncexporterabsent',
            },
          },
          {
            alert: 'MailsyncConfigReloadFailed',
            expr: 'mailsync_config_last_reload_successful{%(mailsyncSelector)s} == 0' % $._config,
            'for': '5m',
            labels: {
              severity: 'warning',
            },
            annotations: {
              summary: 'mailsync rejected its config file.',
              description: 'The last reload of the config at {{ $labels.instance }} was rejected; the previous config keeps running. The log line "config reload rejected" lists the problems; `mailsync check-config` shows them too.',
              runbook_url: $._config.runbookURLPattern % 'mailsyncconfigreloadfailed',
            },
          },
          {
            alert: 'MailsyncMailboxesUnleased',
            expr: 'max by (direction, job) (mailsync_mailboxes_unleased{%(mailsyncSelector)s}) > 0' % $._config,
            'for': $._config.unleasedFor,
            labels: {
              severity: 'warning',
            },
            annotations: {
              summary: 'Some mailboxes are synced by no runner.',
              description: '{{ $value }} configured {{ $labels.direction }} mailbox directions have had no runner holding their lease for longer than two lease periods: no runner is claiming them, so they are not synced. `mailsync_leases_held` shows what each runner holds.',
              runbook_url: $._config.runbookURLPattern % 'mailsyncmailboxesunleased',
            },
          },
          {
            alert: 'MailsyncWebhookFailing',
            expr: '(\n  sum by (webhook, instance, job) (increase(mailsync_webhook_deliveries_total{%(mailsyncSelector)s, result=~"retry|dead"}[15m])) > 0\n)\nunless on(webhook, instance, job)\n(\n  sum by (webhook, instance, job) (increase(mailsync_webhook_deliveries_total{%(mailsyncSelector)s, result="delivered"}[15m])) > 0\n)' % $._config,
            'for': $._config.conditionFor,
            labels: {
              severity: 'warning',
            },
            annotations: {
              summary: 'A webhook keeps failing: its receiver gets no change.',
              description: 'Every delivery to webhook {{ $labels.webhook }} failed in the last 15 minutes ({{ $value | humanize }} failed attempts) and none got through; changes wait in the outbox and, once their retry budget is spent, are dead-lettered. `GET /api/webhooks/deliveries?state=pending` shows the last error of each.',
              runbook_url: $._config.runbookURLPattern % 'mailsyncwebhookfailing',
            },
          },
        ],
      },
    ],
  },
}
