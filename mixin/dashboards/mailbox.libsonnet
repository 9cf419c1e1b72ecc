// Generated from alerts/src and dashboards/src by `npm run mixin:generate`; do not edit by hand.
{
  grafanaDashboards+:: {
    'mailsync-mailbox.json': {
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
            name: 'mailbox',
            skipUrlSync: false,
            multi: false,
            allowCustomValue: true,
            includeAll: false,
            auto: false,
            auto_min: '10s',
            auto_count: 30,
            label: 'Mailbox',
            hide: 0,
            datasource: {
              type: 'prometheus',
              uid: '${datasource}',
            },
            query: {
              query: 'label_values(mailsync_mailbox_info, mailbox)',
              refId: 'mailbox-query',
            },
            definition: 'label_values(mailsync_mailbox_info, mailbox)',
            refresh: 2,
            sort: 1,
          },
          {
            type: 'textbox',
            name: 'mailsync',
            skipUrlSync: false,
            multi: false,
            allowCustomValue: true,
            includeAll: false,
            auto: false,
            auto_min: '10s',
            auto_count: 30,
            label: 'mailsync URL',
            hide: 0,
            query: 'http://localhost:9782',
            current: {
              text: 'http://localhost:9782',
              value: 'http://localhost:9782',
            },
          },
        ],
      },
      annotations: {
        list: [],
      },
      title: 'mailsync: Mailbox status',
      uid: $._config.mailboxDashboardUid,
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
          title: 'Synchronization performance',
          type: 'link',
          icon: 'dashboard',
          tooltip: '',
          tags: [],
          asDropdown: false,
          targetBlank: false,
          includeVars: false,
          keepTime: true,
          url: '/d/%(performanceDashboardUid)s/mailsync-server-side-synchronization-performance' % $._config,
        },
        {
          title: 'Status page',
          type: 'link',
          icon: 'external link',
          tooltip: '',
          tags: [],
          asDropdown: false,
          targetBlank: false,
          includeVars: false,
          keepTime: true,
          url: '${mailsync}/mailboxes/${mailbox}',
        },
        {
          title: 'API record',
          type: 'link',
          icon: 'external link',
          tooltip: '',
          tags: [],
          asDropdown: false,
          targetBlank: false,
          includeVars: false,
          keepTime: true,
          url: '${mailsync}/api/mailboxes/${mailbox}',
        },
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
            overrides: [],
          },
          title: 'Mailbox',
          targets: [
            {
              expr: 'mailsync_mailbox_info{mailbox="$mailbox"}',
              refId: 'A',
              instant: true,
              range: false,
              format: 'table',
            },
            {
              expr: 'mailsync_mailbox_health{mailbox="$mailbox"} == 1',
              refId: 'B',
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
                  Value: true,
                  'Value #A': true,
                  'Value #B': true,
                },
                renameByName: {},
              },
            },
          ],
          gridPos: {
            h: 4,
            w: 12,
            x: 0,
            y: 0,
          },
          id: 1,
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
          title: 'Last success',
          targets: [
            {
              expr: 'max(mailsync_mailbox_last_success_timestamp_seconds{mailbox="$mailbox"}) * 1000',
              refId: 'A',
              range: true,
              instant: false,
            },
          ],
          fieldConfig: {
            defaults: {
              unit: 'dateTimeFromNow',
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
            w: 6,
            x: 12,
            y: 0,
          },
          id: 2,
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
          title: 'Pending Send',
          targets: [
            {
              expr: 'sum(mailsync_mailbox_pending_send_emails{mailbox="$mailbox"})',
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
            w: 6,
            x: 18,
            y: 0,
          },
          id: 3,
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
            overrides: [],
          },
          title: 'Directions',
          targets: [
            {
              expr: 'mailsync_mailbox_enabled{mailbox="$mailbox"}',
              refId: 'enabled',
              instant: true,
              range: false,
              format: 'table',
            },
            {
              expr: 'mailsync_mailbox_consecutive_failures{mailbox="$mailbox"}',
              refId: 'failures',
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
                renameByName: {},
              },
            },
          ],
          gridPos: {
            h: 6,
            w: 12,
            x: 0,
            y: 4,
          },
          description: 'Per direction: enabled (1) or disabled (0), and failures in a row (the 11th transient one disables by default).',
          id: 4,
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
                  options: 'code',
                },
                properties: [
                  {
                    id: 'links',
                    value: [
                      {
                        title: 'Runbook',
                        url: $._config.runbookURLPattern % '${__value.raw}',
                      },
                    ],
                  },
                ],
              },
            ],
          },
          title: 'Last error',
          targets: [
            {
              expr: 'mailsync_mailbox_last_error_timestamp_seconds{mailbox="$mailbox"} * 1000',
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
                  Value: 'at',
                },
              },
            },
          ],
          gridPos: {
            h: 6,
            w: 12,
            x: 12,
            y: 4,
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
          title: 'Failures by code (per hour)',
          targets: [
            {
              expr: 'sum by (code, direction) (increase(mailsync_mailbox_sync_errors_total{mailbox="$mailbox"}[1h]))',
              refId: 'A',
              range: true,
              instant: false,
              legendFormat: '{{direction}} {{code}}',
            },
          ],
          gridPos: {
            h: 8,
            w: 12,
            x: 0,
            y: 10,
          },
          id: 6,
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
          title: 'Items per hour',
          targets: [
            {
              expr: 'sum by (direction) (increase(mailsync_mailbox_items_processed_total{mailbox="$mailbox"}[1h]))',
              refId: 'A',
              range: true,
              instant: false,
              legendFormat: 'processed {{direction}}',
            },
            {
              expr: 'sum by (direction, code) (increase(mailsync_mailbox_items_failed_total{mailbox="$mailbox"}[1h]))',
              refId: 'B',
              range: true,
              instant: false,
              legendFormat: 'failed {{direction}} {{code}}',
            },
          ],
          gridPos: {
            h: 8,
            w: 12,
            x: 12,
            y: 10,
          },
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
          title: 'Runs per hour',
          targets: [
            {
              expr: 'sum by (direction, result) (increase(mailsync_mailbox_sync_runs_total{mailbox="$mailbox"}[1h]))',
              refId: 'A',
              range: true,
              instant: false,
              legendFormat: '{{direction}} {{result}}',
            },
          ],
          gridPos: {
            h: 8,
            w: 12,
            x: 0,
            y: 18,
          },
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
          title: 'Pending Send: oldest email waiting',
          targets: [
            {
              expr: 'mailsync_mailbox_pending_send_oldest_age_seconds{mailbox="$mailbox"}',
              refId: 'A',
              range: true,
              instant: false,
              legendFormat: 'oldest',
            },
          ],
          gridPos: {
            h: 8,
            w: 12,
            x: 12,
            y: 18,
          },
          id: 9,
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
        },
        {
          type: 'text',
          transparent: false,
          repeatDirection: 'h',
          options: {
            mode: 'markdown',
            content: 'Fix the cause named by the last error (see the [runbook](%(runbookURL)s)), then run Test & Enable: `mailsync mailboxes test-enable $mailbox`.' % $._config,
          },
          title: 'Bringing the mailbox back',
          gridPos: {
            h: 3,
            w: 24,
            x: 0,
            y: 26,
          },
          id: 10,
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
        },
      ],
    },
  },
}
