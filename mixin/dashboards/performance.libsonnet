// Generated from alerts/src and dashboards/src by `npm run mixin:generate`; do not edit by hand.
{
  grafanaDashboards+:: {
    'mailsync-performance.json': {
      timezone: 'utc',
      editable: true,
      graphTooltip: 1,
      fiscalYearStartMonth: 0,
      schemaVersion: 42,
      templating: {
        list: [
          {
            type: 'datasource',
            name: 'datasource',
            skipUrlSync: false,
            multi: false,
            allowCustomValue: true,
            includeAll: false,
            auto: false,
            auto_min: '10s',
            auto_count: 30,
            label: 'Data source',
            hide: 0,
            query: 'prometheus',
            current: {
              text: 'Prometheus',
              value: 'prometheus',
            },
          },
          {
            type: 'query',
            name: 'profile',
            skipUrlSync: false,
            multi: true,
            allowCustomValue: true,
            includeAll: true,
            auto: false,
            auto_min: '10s',
            auto_count: 30,
            label: 'Profile',
            hide: 0,
            datasource: {
              type: 'prometheus',
              uid: '${datasource}',
            },
            query: {
              query: 'label_values(mailsync_profile_info, profile)',
              refId: 'profile-query',
            },
            definition: 'label_values(mailsync_profile_info, profile)',
            refresh: 2,
            sort: 1,
            current: {
              text: 'All',
              value: '$__all',
            },
          },
          {
            type: 'custom',
            name: 'direction',
            skipUrlSync: false,
            multi: true,
            allowCustomValue: true,
            includeAll: true,
            auto: false,
            auto_min: '10s',
            auto_count: 30,
            label: 'Direction',
            hide: 0,
            query: 'incoming,outgoing,act',
            options: [
              {
                text: 'incoming',
                value: 'incoming',
                selected: false,
              },
              {
                text: 'outgoing',
                value: 'outgoing',
                selected: false,
              },
              {
                text: 'act',
                value: 'act',
                selected: false,
              },
            ],
            current: {
              text: 'All',
              value: '$__all',
            },
          },
        ],
      },
      annotations: {
        list: [],
      },
      title: 'mailsync: Server-Side Synchronization Performance',
      uid: $._config.performanceDashboardUid,
      description: 'Generated from dashboards/src by `npm run dashboards:generate`; do not edit in Grafana (changes are overwritten).',
      tags: [
        'mailsync',
      ],
      refresh: '30s',
      time: {
        from: 'now-6h',
        to: 'now',
      },
      links: [
        {
          title: 'Runbook',
          type: 'link',
          icon: 'doc',
          tooltip: '',
          tags: [],
          asDropdown: false,
          targetBlank: false,
          includeVars: false,
          keepTime: true,
          url: $._config.runbookURL,
        },
      ],
      panels: [
        {
          type: 'mailsync-summary-panel',
          transparent: false,
          repeatDirection: 'h',
          options: {
            longTestMinutes: $._config.testEnableLongSeconds / 60,
            retryBudget: 10,
            runbookBaseUrl: $._config.runbookURL,
            mailboxLinkTemplate: '/d/%(mailboxDashboardUid)s/mailsync-mailbox-status?var-mailbox=${mailbox}' % $._config,
            pageSize: 100,
          },
          title: 'Server-side synchronization',
          gridPos: {
            h: 10,
            w: 10,
            x: 0,
            y: 0,
          },
          targets: [
            {
              expr: '(mailsync_mailbox_health == 1) and on(mailbox) mailsync_mailbox_info{profile=~"$profile"}',
              refId: 'health',
              instant: true,
              range: false,
              format: 'table',
            },
            {
              expr: '(mailsync_mailbox_info) and on(mailbox) mailsync_mailbox_info{profile=~"$profile"}',
              refId: 'info',
              instant: true,
              range: false,
              format: 'table',
            },
            {
              expr: '(mailsync_mailbox_enabled) and on(mailbox) mailsync_mailbox_info{profile=~"$profile"}',
              refId: 'enabled',
              instant: true,
              range: false,
              format: 'table',
            },
            {
              expr: '(mailsync_mailbox_disabled) and on(mailbox) mailsync_mailbox_info{profile=~"$profile"}',
              refId: 'disabled',
              instant: true,
              range: false,
              format: 'table',
            },
            {
              expr: '(mailsync_mailbox_consecutive_failures) and on(mailbox) mailsync_mailbox_info{profile=~"$profile"}',
              refId: 'failures',
              instant: true,
              range: false,
              format: 'table',
            },
            {
              expr: '(mailsync_mailbox_last_success_timestamp_seconds) and on(mailbox) mailsync_mailbox_info{profile=~"$profile"}',
              refId: 'success',
              instant: true,
              range: false,
              format: 'table',
            },
            {
              expr: '(mailsync_mailbox_last_error_timestamp_seconds) and on(mailbox) mailsync_mailbox_info{profile=~"$profile"}',
              refId: 'error',
              instant: true,
              range: false,
              format: 'table',
            },
            {
              expr: '(mailsync_mailbox_test_started_timestamp_seconds) and on(mailbox) mailsync_mailbox_info{profile=~"$profile"}',
              refId: 'test',
              instant: true,
              range: false,
              format: 'table',
            },
            {
              expr: '(mailsync_mailbox_items_failed_total > 0) and on(mailbox) mailsync_mailbox_info{profile=~"$profile"}',
              refId: 'items',
              instant: true,
              range: false,
              format: 'table',
            },
          ],
          description: 'Every number opens the mailboxes behind it; a mailbox opens its status.',
          id: 1,
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
        },
        {
          type: 'table',
          transparent: false,
          repeatDirection: 'h',
          options: {
            frameIndex: 0,
            showHeader: true,
            showTypeIcons: false,
            footer: {
              show: false,
              reducer: [],
              countRows: false,
            },
            cellHeight: 'sm',
          },
          fieldConfig: {
            defaults: {
              custom: {
                align: 'auto',
                inspect: false,
              },
              unit: 'dateTimeAsIso',
            },
            overrides: [
              {
                matcher: {
                  id: 'byName',
                  options: 'mailbox',
                },
                properties: [
                  {
                    id: 'links',
                    value: [
                      {
                        title: 'Mailbox status',
                        url: '/d/%(mailboxDashboardUid)s/mailsync-mailbox-status?var-mailbox=${__data.fields.mailbox}&${__url_time_range}&var-datasource=${datasource}' % $._config,
                      },
                    ],
                  },
                ],
              },
            ],
          },
          title: 'System-disabled mailboxes',
          targets: [
            {
              expr: '((mailsync_mailbox_last_error_timestamp_seconds * 1000) * on(mailbox, direction) group_left() (mailsync_mailbox_disabled == 1)) * on(mailbox) group_left(address, profile) mailsync_mailbox_info{profile=~"$profile"}',
              refId: 'A',
              instant: true,
              range: false,
              format: 'table',
            },
          ],
          transformations: [
            {
              id: 'organize',
              options: {
                excludeByName: {
                  Time: true,
                  __name__: true,
                  job: true,
                  instance: true,
                  class: true,
                  scope: true,
                },
                renameByName: {
                  Value: 'since',
                },
              },
            },
          ],
          gridPos: {
            h: 10,
            w: 14,
            x: 10,
            y: 0,
          },
          description: 'Mailboxes the system keeps disabled, with the code of the failure. A row opens the mailbox dashboard.',
          id: 2,
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
        },
        {
          type: 'timeseries',
          transparent: false,
          repeatDirection: 'h',
          options: {
            legend: {
              displayMode: 'table',
              placement: 'right',
              showLegend: true,
              calcs: [
                'lastNotNull',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'none',
            },
          },
          fieldConfig: {
            defaults: {
              custom: {
                stacking: {
                  mode: 'normal',
                },
                fillOpacity: 60,
              },
              unit: 'short',
            },
            overrides: [],
          },
          title: 'Mailboxes by health',
          targets: [
            {
              expr: 'sum by (health) (mailsync_profile_mailboxes{profile=~"$profile"})',
              refId: 'A',
              range: true,
              instant: false,
              legendFormat: '{{health}}',
            },
          ],
          gridPos: {
            h: 8,
            w: 12,
            x: 0,
            y: 10,
          },
          id: 3,
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
        },
        {
          type: 'timeseries',
          transparent: false,
          repeatDirection: 'h',
          options: {
            legend: {
              displayMode: 'table',
              placement: 'right',
              showLegend: true,
              calcs: [
                'lastNotNull',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'none',
            },
          },
          fieldConfig: {
            defaults: {
              custom: {
                stacking: {
                  mode: 'none',
                },
                fillOpacity: 10,
              },
              unit: 'short',
            },
            overrides: [],
          },
          title: 'Failures by code, class and scope (per hour)',
          targets: [
            {
              expr: 'sum by (code, class, scope) (increase(mailsync_sync_errors_total{profile=~"$profile", direction=~"$direction"}[1h]))',
              refId: 'A',
              range: true,
              instant: false,
              legendFormat: '{{code}} ({{class}}, {{scope}})',
            },
          ],
          gridPos: {
            h: 8,
            w: 12,
            x: 12,
            y: 10,
          },
          id: 4,
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
        },
        {
          type: 'timeseries',
          transparent: false,
          repeatDirection: 'h',
          options: {
            legend: {
              displayMode: 'table',
              placement: 'right',
              showLegend: true,
              calcs: [
                'lastNotNull',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'none',
            },
          },
          fieldConfig: {
            defaults: {
              custom: {
                stacking: {
                  mode: 'none',
                },
                fillOpacity: 10,
              },
              unit: 'short',
            },
            overrides: [],
          },
          title: 'Items processed and failed per hour',
          targets: [
            {
              expr: 'sum by (direction) (increase(mailsync_items_processed_total{profile=~"$profile", direction=~"$direction"}[1h]))',
              refId: 'A',
              range: true,
              instant: false,
              legendFormat: 'processed {{direction}}',
            },
            {
              expr: 'sum by (direction, code) (increase(mailsync_items_failed_total{profile=~"$profile", direction=~"$direction"}[1h]))',
              refId: 'B',
              range: true,
              instant: false,
              legendFormat: 'failed {{direction}} {{code}}',
            },
          ],
          gridPos: {
            h: 8,
            w: 12,
            x: 0,
            y: 18,
          },
          id: 5,
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
        },
        {
          type: 'timeseries',
          transparent: false,
          repeatDirection: 'h',
          options: {
            legend: {
              displayMode: 'table',
              placement: 'right',
              showLegend: true,
              calcs: [
                'lastNotNull',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'none',
            },
          },
          fieldConfig: {
            defaults: {
              custom: {
                stacking: {
                  mode: 'none',
                },
                fillOpacity: 10,
              },
              unit: 'short',
            },
            overrides: [],
          },
          title: 'Retries per hour',
          targets: [
            {
              expr: 'sum by (direction) (increase(mailsync_sync_retries_total{profile=~"$profile", direction=~"$direction"}[1h]))',
              refId: 'A',
              range: true,
              instant: false,
              legendFormat: '{{direction}}',
            },
          ],
          gridPos: {
            h: 8,
            w: 12,
            x: 12,
            y: 18,
          },
          id: 6,
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
        },
        {
          type: 'table',
          transparent: false,
          repeatDirection: 'h',
          options: {
            frameIndex: 0,
            showHeader: true,
            showTypeIcons: false,
            footer: {
              show: false,
              reducer: [],
              countRows: false,
            },
            cellHeight: 'sm',
          },
          fieldConfig: {
            defaults: {
              custom: {
                align: 'auto',
                inspect: false,
              },
              unit: 'short',
            },
            overrides: [
              {
                matcher: {
                  id: 'byName',
                  options: 'mailbox',
                },
                properties: [
                  {
                    id: 'links',
                    value: [
                      {
                        title: 'Mailbox status',
                        url: '/d/%(mailboxDashboardUid)s/mailsync-mailbox-status?var-mailbox=${__data.fields.mailbox}&${__url_time_range}&var-datasource=${datasource}' % $._config,
                      },
                    ],
                  },
                ],
              },
            ],
          },
          title: 'Item failures by mailbox and code',
          targets: [
            {
              expr: '(sum by (mailbox, direction, code) (mailsync_mailbox_items_failed_total{direction=~"$direction"})) * on(mailbox) group_left(address, profile) mailsync_mailbox_info{profile=~"$profile"}',
              refId: 'A',
              instant: true,
              range: false,
              format: 'table',
            },
          ],
          transformations: [
            {
              id: 'organize',
              options: {
                excludeByName: {
                  Time: true,
                  __name__: true,
                  job: true,
                  instance: true,
                },
                renameByName: {
                  Value: 'failures',
                },
              },
            },
          ],
          gridPos: {
            h: 8,
            w: 12,
            x: 0,
            y: 26,
          },
          description: "Item-level failures recorded in the store (each repeat counted; the mailbox kept syncing), by mailbox, direction and taxonomy code. A row opens the mailbox dashboard; its runner's status page lists each item (Failed items).",
          id: 7,
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
        },
        {
          type: 'timeseries',
          transparent: false,
          repeatDirection: 'h',
          options: {
            legend: {
              displayMode: 'table',
              placement: 'right',
              showLegend: true,
              calcs: [
                'lastNotNull',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'none',
            },
          },
          fieldConfig: {
            defaults: {
              custom: {
                stacking: {
                  mode: 'none',
                },
                fillOpacity: 10,
              },
              unit: 'short',
            },
            overrides: [],
          },
          title: 'Pending Send',
          targets: [
            {
              expr: 'sum(max by (profile, job) (mailsync_profile_pending_send_emails{profile=~"$profile"}))',
              refId: 'A',
              range: true,
              instant: false,
              legendFormat: 'emails waiting',
            },
            {
              expr: '(max by (mailbox) (mailsync_mailbox_pending_send_oldest_age_seconds)) * on(mailbox) group_left(address, profile) mailsync_mailbox_info{profile=~"$profile"}',
              refId: 'B',
              range: true,
              instant: false,
              legendFormat: 'oldest (s): {{address}}',
            },
          ],
          gridPos: {
            h: 8,
            w: 12,
            x: 12,
            y: 26,
          },
          description: 'Emails queued and not sent yet, and how long the oldest of each mailbox has waited.',
          id: 8,
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
        },
        {
          type: 'timeseries',
          transparent: false,
          repeatDirection: 'h',
          options: {
            legend: {
              displayMode: 'table',
              placement: 'right',
              showLegend: true,
              calcs: [
                'lastNotNull',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'none',
            },
          },
          fieldConfig: {
            defaults: {
              custom: {
                stacking: {
                  mode: 'none',
                },
                fillOpacity: 10,
              },
              unit: 's',
            },
            overrides: [],
          },
          title: 'Sync duration (p50, p95)',
          targets: [
            {
              expr: 'histogram_quantile(0.5, sum by (le, direction, profile) (rate(mailsync_sync_duration_seconds_bucket{profile=~"$profile", direction=~"$direction"}[$__rate_interval])))',
              refId: 'A',
              range: true,
              instant: false,
              legendFormat: 'p50 {{direction}} {{profile}}',
            },
            {
              expr: 'histogram_quantile(0.95, sum by (le, direction, profile) (rate(mailsync_sync_duration_seconds_bucket{profile=~"$profile", direction=~"$direction"}[$__rate_interval])))',
              refId: 'B',
              range: true,
              instant: false,
              legendFormat: 'p95 {{direction}} {{profile}}',
            },
          ],
          gridPos: {
            h: 8,
            w: 12,
            x: 0,
            y: 34,
          },
          id: 9,
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
        },
        {
          type: 'timeseries',
          transparent: false,
          repeatDirection: 'h',
          options: {
            legend: {
              displayMode: 'table',
              placement: 'right',
              showLegend: true,
              calcs: [
                'lastNotNull',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'none',
            },
          },
          fieldConfig: {
            defaults: {
              custom: {
                stacking: {
                  mode: 'none',
                },
                fillOpacity: 10,
              },
              unit: 'percentunit',
            },
            overrides: [],
          },
          title: "Share of each profile's mailboxes failing (last hour)",
          targets: [
            {
              expr: 'max without(instance) (mailsync_profile_mailboxes_recently_failed{profile=~"$profile"}) / on(profile, job) sum by (profile, job) (max without(instance) (mailsync_profile_mailboxes{profile=~"$profile"}))',
              refId: 'A',
              range: true,
              instant: false,
              legendFormat: '{{profile}}',
            },
          ],
          gridPos: {
            h: 8,
            w: 12,
            x: 12,
            y: 34,
          },
          description: 'Over 50 % alerts the profile owner (MailsyncProfileMailboxesFailing).',
          id: 10,
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
        },
        {
          type: 'stat',
          transparent: false,
          repeatDirection: 'h',
          options: {
            graphMode: 'none',
            colorMode: 'value',
            justifyMode: 'auto',
            textMode: 'auto',
            wideLayout: true,
            showPercentChange: false,
            reduceOptions: {
              calcs: [
                'lastNotNull',
              ],
            },
            percentChangeColorMode: 'standard',
            orientation: 'auto',
          },
          title: 'Runners up',
          targets: [
            {
              expr: 'sum(up{%(mailsyncSelector)s})' % $._config,
              refId: 'A',
              range: true,
              instant: false,
            },
          ],
          fieldConfig: {
            defaults: {
              unit: 'short',
              mappings: [],
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'red',
                    value: null,
                  },
                  {
                    color: 'green',
                    value: 1,
                  },
                ],
              },
            },
            overrides: [],
          },
          gridPos: {
            h: 4,
            w: 4,
            x: 0,
            y: 42,
          },
          id: 11,
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
        },
        {
          type: 'stat',
          transparent: false,
          repeatDirection: 'h',
          options: {
            graphMode: 'none',
            colorMode: 'value',
            justifyMode: 'auto',
            textMode: 'auto',
            wideLayout: true,
            showPercentChange: false,
            reduceOptions: {
              calcs: [
                'lastNotNull',
              ],
            },
            percentChangeColorMode: 'standard',
            orientation: 'auto',
          },
          title: 'Config reload',
          targets: [
            {
              expr: 'min(mailsync_config_last_reload_successful)',
              refId: 'A',
              range: true,
              instant: false,
            },
          ],
          fieldConfig: {
            defaults: {
              unit: 'short',
              mappings: [
                {
                  type: 'value',
                  options: {
                    '0': {
                      text: 'rejected',
                      color: 'red',
                    },
                    '1': {
                      text: 'ok',
                      color: 'green',
                    },
                  },
                },
              ],
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
            },
            overrides: [],
          },
          gridPos: {
            h: 4,
            w: 4,
            x: 4,
            y: 42,
          },
          id: 12,
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
        },
        {
          type: 'stat',
          transparent: false,
          repeatDirection: 'h',
          options: {
            graphMode: 'none',
            colorMode: 'value',
            justifyMode: 'auto',
            textMode: 'auto',
            wideLayout: true,
            showPercentChange: false,
            reduceOptions: {
              calcs: [
                'lastNotNull',
              ],
            },
            percentChangeColorMode: 'standard',
            orientation: 'auto',
          },
          title: 'Cycles in flight',
          targets: [
            {
              expr: 'sum(mailsync_scheduler_in_flight)',
              refId: 'A',
              range: true,
              instant: false,
            },
          ],
          fieldConfig: {
            defaults: {
              unit: 'short',
              mappings: [],
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
            },
            overrides: [],
          },
          gridPos: {
            h: 4,
            w: 4,
            x: 8,
            y: 42,
          },
          id: 13,
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
        },
        {
          type: 'stat',
          transparent: false,
          repeatDirection: 'h',
          options: {
            graphMode: 'none',
            colorMode: 'value',
            justifyMode: 'auto',
            textMode: 'auto',
            wideLayout: true,
            showPercentChange: false,
            reduceOptions: {
              calcs: [
                'lastNotNull',
              ],
            },
            percentChangeColorMode: 'standard',
            orientation: 'auto',
          },
          title: 'Cycles waiting for a slot',
          targets: [
            {
              expr: 'sum(mailsync_scheduler_queue_depth)',
              refId: 'A',
              range: true,
              instant: false,
            },
          ],
          fieldConfig: {
            defaults: {
              unit: 'short',
              mappings: [],
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                  {
                    color: 'orange',
                    value: 1,
                  },
                ],
              },
            },
            overrides: [],
          },
          gridPos: {
            h: 4,
            w: 4,
            x: 12,
            y: 42,
          },
          id: 14,
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
        },
        {
          type: 'stat',
          transparent: false,
          repeatDirection: 'h',
          options: {
            graphMode: 'none',
            colorMode: 'value',
            justifyMode: 'auto',
            textMode: 'auto',
            wideLayout: true,
            showPercentChange: false,
            reduceOptions: {
              calcs: [
                'lastNotNull',
              ],
            },
            percentChangeColorMode: 'standard',
            orientation: 'auto',
          },
          title: 'Store errors (1h)',
          targets: [
            {
              expr: 'sum(increase(mailsync_store_errors_total[1h]))',
              refId: 'A',
              range: true,
              instant: false,
            },
          ],
          fieldConfig: {
            defaults: {
              unit: 'short',
              mappings: [],
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                  {
                    color: 'red',
                    value: 1,
                  },
                ],
              },
            },
            overrides: [],
          },
          gridPos: {
            h: 4,
            w: 4,
            x: 16,
            y: 42,
          },
          id: 15,
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
        },
        {
          type: 'stat',
          transparent: false,
          repeatDirection: 'h',
          options: {
            graphMode: 'none',
            colorMode: 'value',
            justifyMode: 'auto',
            textMode: 'auto',
            wideLayout: true,
            showPercentChange: false,
            reduceOptions: {
              calcs: [
                'lastNotNull',
              ],
            },
            percentChangeColorMode: 'standard',
            orientation: 'auto',
          },
          title: 'Mailboxes configured',
          targets: [
            {
              expr: 'sum(max by (job) (mailsync_mailboxes_configured))',
              refId: 'A',
              range: true,
              instant: false,
            },
          ],
          fieldConfig: {
            defaults: {
              unit: 'short',
              mappings: [],
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
            },
            overrides: [],
          },
          gridPos: {
            h: 4,
            w: 4,
            x: 20,
            y: 42,
          },
          id: 16,
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
        },
      ],
    },
  },
}
