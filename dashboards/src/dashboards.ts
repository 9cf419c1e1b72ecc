import { DIRECTIONS } from '@mailsync/contract';
import { QUERIES } from '../../grafana-plugin/src/data/queries.js';
import { DEFAULT_OPTIONS } from '../../grafana-plugin/src/options.js';
import { MappingType, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { DASHBOARD_CONFIG, runbookSection, type DashboardConfig } from './config.js';
import { customVariable, dashboard, datasourceVariable, queryVariable, textboxVariable } from './assemble.js';
import { instant, stat, table, target, text, timeseries } from './builders.js';
import { SummaryPanelBuilder } from './summaryPanel.js';

export const PERFORMANCE_UID = DASHBOARD_CONFIG.performanceUid;
export const MAILBOX_UID = DASHBOARD_CONFIG.mailboxUid;
const mailboxLink = (c: DashboardConfig, mailbox: string) => `/d/${c.mailboxUid}/mailsync-mailbox-status?var-mailbox=${mailbox}&\${__url_time_range}&var-datasource=\${datasource}`;

/** Per-mailbox series carry no profile: they are filtered through the info series. */
const inProfile = (expr: string) => `(${expr}) and on(mailbox) mailsync_mailbox_info{profile=~"$profile"}`;
const withInfo = (expr: string) => `(${expr}) * on(mailbox) group_left(address, profile) mailsync_mailbox_info{profile=~"$profile"}`;
const fleet = 'profile=~"$profile", direction=~"$direction"';

const datasource = () => datasourceVariable('datasource', 'Data source', 'prometheus');
const profile = () => queryVariable('profile', 'Profile', 'label_values(mailsync_profile_info, profile)', { all: true });

/** The summary panel's queries (grafana-plugin/src/data/queries.ts), filtered by profile. */
const summaryTargets = () => Object.entries(QUERIES).map(([ref, expr]) => instant(ref, inProfile(expr)));

export function performanceDashboard(c: DashboardConfig = DASHBOARD_CONFIG): Dashboard {
  return dashboard({
    uid: c.performanceUid,
    title: 'mailsync: Server-Side Synchronization Performance',
    description: 'Generated from dashboards/src by `npm run dashboards:generate`; do not edit in Grafana (changes are overwritten).',
    tags: ['mailsync'],
    variables: [datasource(), profile(), customVariable('direction', 'Direction', DIRECTIONS)],
    links: [{ title: 'Runbook', url: c.runbookUrl, icon: 'doc' }],
    panels: [
      new SummaryPanelBuilder().title('Server-side synchronization').span(10).height(10).targets(summaryTargets())
        .description('Every number opens the mailboxes behind it; a mailbox opens its status.')
        .options({
          ...DEFAULT_OPTIONS, longTestMinutes: c.testEnableLongMinutes, runbookBaseUrl: c.runbookUrl,
          mailboxLinkTemplate: `/d/${c.mailboxUid}/mailsync-mailbox-status?var-mailbox=\${mailbox}`,
        }),
      table('System-disabled mailboxes', [instant('A', withInfo('(mailsync_mailbox_last_error_timestamp_seconds * 1000) * on(mailbox, direction) group_left() (mailsync_mailbox_disabled == 1)'))], {
        w: 14, h: 10, unit: 'dateTimeAsIso', exclude: ['class', 'scope'], rename: { Value: 'since' },
        description: 'Mailboxes the system keeps disabled, with the code of the failure. A row opens the mailbox dashboard.',
        links: [{ field: 'mailbox', title: 'Mailbox status', url: mailboxLink(c, '${__data.fields.mailbox}') }],
      }),
      timeseries('Mailboxes by health', [target('A', 'sum by (health) (mailsync_profile_mailboxes{profile=~"$profile"})', '{{health}}')], { stack: true }),
      timeseries('Failures by code, class and scope (per hour)', [target('A', `sum by (code, class, scope) (increase(mailsync_sync_errors_total{${fleet}}[1h]))`, '{{code}} ({{class}}, {{scope}})')]),
      timeseries('Items processed and failed per hour', [
        target('A', `sum by (direction) (increase(mailsync_items_processed_total{${fleet}}[1h]))`, 'processed {{direction}}'),
        target('B', `sum by (direction, code) (increase(mailsync_items_failed_total{${fleet}}[1h]))`, 'failed {{direction}} {{code}}'),
      ]),
      timeseries('Retries per hour', [target('A', `sum by (direction) (increase(mailsync_sync_retries_total{${fleet}}[1h]))`, '{{direction}}')]),
      // D: the product's "Incoming Emails Failed To Sync" in numbers; subject and Message-ID are
      // on the status page's Failed items view and /api/failures (not labels: unbounded).
      table('Item failures by mailbox and code', [instant('A', withInfo('sum by (mailbox, direction, code) (mailsync_mailbox_items_failed_total{direction=~"$direction"})'))], {
        w: 12, h: 8, rename: { Value: 'failures' },
        description: 'Item-level failures recorded in the store (each repeat counted; the mailbox kept syncing), by mailbox, direction and taxonomy code. A row opens the mailbox dashboard; its runner\'s status page lists each item (Failed items).',
        links: [{ field: 'mailbox', title: 'Mailbox status', url: mailboxLink(c, '${__data.fields.mailbox}') }],
      }),
      timeseries('Pending Send', [
        // H: each runner on a shared store reports every profile's queue: one per job, not summed over its runners.
        target('A', 'sum(max by (profile, job) (mailsync_profile_pending_send_emails{profile=~"$profile"}))', 'emails waiting'),
        target('B', withInfo('max by (mailbox) (mailsync_mailbox_pending_send_oldest_age_seconds)'), 'oldest (s): {{address}}'),
      ], { description: 'Emails queued and not sent yet, and how long the oldest of each mailbox has waited.' }),
      timeseries('Sync duration (p50, p95)', [
        target('A', `histogram_quantile(0.5, sum by (le, direction, profile) (rate(mailsync_sync_duration_seconds_bucket{${fleet}}[$__rate_interval])))`, 'p50 {{direction}} {{profile}}'),
        target('B', `histogram_quantile(0.95, sum by (le, direction, profile) (rate(mailsync_sync_duration_seconds_bucket{${fleet}}[$__rate_interval])))`, 'p95 {{direction}} {{profile}}'),
      ], { unit: 's' }),
      timeseries('Share of each profile\'s mailboxes failing (last hour)', [
        // Per-profile figures come alike from every runner on a shared store: one line per profile.
        target('A', 'max without(instance) (mailsync_profile_mailboxes_recently_failed{profile=~"$profile"}) / on(profile, job) sum by (profile, job) (max without(instance) (mailsync_profile_mailboxes{profile=~"$profile"}))', '{{profile}}'),
      ], { unit: 'percentunit', description: 'Over 50 % alerts the profile owner (MailsyncProfileMailboxesFailing).' }),
      stat('Runners up', target('A', `sum(up{${c.selector}})`), { w: 4, thresholds: [{ color: 'red', value: null }, { color: 'green', value: 1 }] }),
      stat('Config reload', target('A', 'min(mailsync_config_last_reload_successful)'), {
        w: 4, mappings: [{ type: MappingType.ValueToText, options: { 0: { text: 'rejected', color: 'red' }, 1: { text: 'ok', color: 'green' } } }],
      }),
      stat('Cycles in flight', target('A', 'sum(mailsync_scheduler_in_flight)'), { w: 4 }),
      stat('Cycles waiting for a slot', target('A', 'sum(mailsync_scheduler_queue_depth)'), { w: 4, thresholds: [{ color: 'green', value: null }, { color: 'orange', value: 1 }] }),
      stat('Store errors (1h)', target('A', 'sum(increase(mailsync_store_errors_total[1h]))'), { w: 4, thresholds: [{ color: 'green', value: null }, { color: 'red', value: 1 }] }),
      // H: the runners of one job share one config (docs/scaling.md): count it once per job.
      stat('Mailboxes configured', target('A', 'sum(max by (job) (mailsync_mailboxes_configured))'), { w: 4 }),
    ],
  });
}

export function mailboxDashboard(c: DashboardConfig = DASHBOARD_CONFIG): Dashboard {
  const mb = 'mailbox="$mailbox"';
  return dashboard({
    uid: c.mailboxUid,
    title: 'mailsync: Mailbox status',
    description: 'Generated from dashboards/src by `npm run dashboards:generate`; do not edit in Grafana (changes are overwritten).',
    tags: ['mailsync'],
    variables: [
      datasource(),
      queryVariable('mailbox', 'Mailbox', 'label_values(mailsync_mailbox_info, mailbox)'),
      textboxVariable('mailsync', 'mailsync URL', 'http://localhost:9782'),
    ],
    links: [
      { title: 'Synchronization performance', url: `/d/${c.performanceUid}/mailsync-server-side-synchronization-performance` },
      { title: 'Status page', url: '${mailsync}/mailboxes/${mailbox}', icon: 'external link' },
      { title: 'API record', url: '${mailsync}/api/mailboxes/${mailbox}', icon: 'external link' },
      { title: 'Runbook', url: c.runbookUrl, icon: 'doc' },
    ],
    panels: [
      table('Mailbox', [instant('A', `mailsync_mailbox_info{${mb}}`), instant('B', `mailsync_mailbox_health{${mb}} == 1`)], { w: 12, h: 4, exclude: ['Value', 'Value #A', 'Value #B'] }),
      stat('Last success', target('A', `max(mailsync_mailbox_last_success_timestamp_seconds{${mb}}) * 1000`), { w: 6, unit: 'dateTimeFromNow' }),
      stat('Pending Send', target('A', `sum(mailsync_mailbox_pending_send_emails{${mb}})`), { w: 6, thresholds: [{ color: 'green', value: null }, { color: 'orange', value: 1 }] }),
      table('Directions', [
        instant('enabled', `mailsync_mailbox_enabled{${mb}}`),
        instant('failures', `mailsync_mailbox_consecutive_failures{${mb}}`),
      ], { w: 12, h: 6, description: 'Per direction: enabled (1) or disabled (0), and failures in a row (the 11th transient one disables by default).' }),
      table('Last error', [instant('A', `mailsync_mailbox_last_error_timestamp_seconds{${mb}} * 1000`)], {
        w: 12, h: 6, unit: 'dateTimeAsIso', rename: { Value: 'at' },
        links: [{ field: 'code', title: 'Runbook', url: runbookSection(c, '${__value.raw}') }],
      }),
      timeseries('Failures by code (per hour)', [target('A', `sum by (code, direction) (increase(mailsync_mailbox_sync_errors_total{${mb}}[1h]))`, '{{direction}} {{code}}')]),
      timeseries('Items per hour', [
        target('A', `sum by (direction) (increase(mailsync_mailbox_items_processed_total{${mb}}[1h]))`, 'processed {{direction}}'),
        target('B', `sum by (direction, code) (increase(mailsync_mailbox_items_failed_total{${mb}}[1h]))`, 'failed {{direction}} {{code}}'),
      ]),
      timeseries('Runs per hour', [target('A', `sum by (direction, result) (increase(mailsync_mailbox_sync_runs_total{${mb}}[1h]))`, '{{direction}} {{result}}')]),
      timeseries('Pending Send: oldest email waiting', [target('A', `mailsync_mailbox_pending_send_oldest_age_seconds{${mb}}`, 'oldest')], { unit: 's' }),
      text('Bringing the mailbox back', `Fix the cause named by the last error (see the [runbook](${c.runbookUrl})), then run Test & Enable: \`mailsync mailboxes test-enable $mailbox\`.`),
    ],
  });
}

export const DASHBOARDS = { 'mailsync-performance.json': performanceDashboard, 'mailsync-mailbox.json': mailboxDashboard };
