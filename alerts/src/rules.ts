import { FILTER_DECISION_CODES } from '@mailsync/contract';
import { ALERT_CONFIG, type AlertConfig } from './config.js';

/**
 * A counter's increase over `window`, counting a series that first appears already above zero.
 * The per-mailbox counters come from the store, so a mailbox's first failures of a code arrive as
 * a new series at N, and increase() of a series with no earlier sample is 0: those would never
 * alert. A series that did not exist a window ago is that case. (A runner down for longer than
 * the window makes its series look new once: it may alert on old counts then.)
 */
function risen(series: string, window: string): string {
  return `increase(${series}[${window}]) > 0\nor\n(${series} > 0 unless ${series} offset ${window})`;
}

export type Severity = 'critical' | 'warning' | 'info';
export type Group = 'mailsync-mailboxes' | 'mailsync-profiles' | 'mailsync-exporter';

export interface AlertDef {
  name: string;
  group: Group;
  severity: Severity;
  expr: string;
  for: string;
  summary: string;
  description: string;
  /** Extra labels (routing: `notify: owner` goes to the profile owner). */
  labels?: Record<string, string>;
}

/**
 * Who the alert is about, for the person paged: the address and profile of the mailbox, looked up
 * in mailsync_mailbox_info when the annotation is rendered. They are not labels on purpose: an
 * alert's labels are its identity, and the fix for some causes (a profile with an explicit host
 * for an unknown location) changes the profile while the cause lasts. As a label, that would
 * resolve the alert and page again under the new profile; as an annotation, the same alert
 * just reads the new profile. Its labels stay what defines the cause: mailbox, direction, code.
 */
const who = '{{ with printf "mailsync_mailbox_info{mailbox=%q, instance=%q, job=%q}" $labels.mailbox $labels.instance $labels.job | query }}'
  + '{{ with . | first }}{{ .Labels.address }} (mailbox {{ $labels.mailbox }}, profile {{ .Labels.profile }}){{ end }}'
  + '{{ else }}mailbox {{ $labels.mailbox }}{{ end }}';
/** The runner's configured retry budget (organization.retry.maxTransientRetries), from its own gauge. */
const retryBudget = '{{ with printf "mailsync_config_max_transient_retries{instance=%q, job=%q}" $labels.instance $labels.job | query }}'
  + '{{ . | first | value }}{{ else }}configured{{ end }}';
const disabled = (C: Config, codes: string) => `mailsync_mailbox_disabled{${C.selector}, code=~"${codes}"} == 1`;
const bringBack = 'Fix the cause, then run Test & Enable (`mailsync mailboxes test-enable {{ $labels.mailbox }}`).';

/** Codes that have an alert of their own; MailsyncMailboxDisabled covers every other one. */
const NAMED_DISABLE_CODES = [
  'secure_connection_failed', 'admin_approval_required', 'email_address_not_approved', 'mailbox_location_unknown',
  'credentials_rejected', 'insufficient_permissions', 'configured_in_another_org', 'insecure_channel_refused',
  'oauth_consent_required',
];

/** What the rules are built from: mailsync's values, or the mixin generator's stand-ins. */
type Config = AlertConfig<number | string>;

/** A mailbox disabled, by cause: each pages at once. */
const disableAlerts = (C: Config): AlertDef[] => [
  {
    name: 'MailsyncMailboxSecureConnectionFailed', group: 'mailsync-mailboxes', severity: 'critical', for: C.disabledFor,
    expr: disabled(C, 'secure_connection_failed'),
    summary: 'Mailbox disabled: no secure connection to its mail server.',
    description: `mailsync disabled {{ $labels.direction }} sync of ${who}: TLS to the server failed (untrusted, expired or wrong-name certificate, or STARTTLS not offered). ${bringBack}`,
  },
  {
    name: 'MailsyncMailboxAdminApprovalRequired', group: 'mailsync-mailboxes', severity: 'critical', for: C.disabledFor,
    expr: disabled(C, 'admin_approval_required'),
    summary: 'Mailbox waits for an administrator to approve its address.',
    description: `${who} uses a trusted (impersonation) profile and has not been approved by an admin, so mailsync does not contact it. An admin approves it with \`mailsync mailboxes approve {{ $labels.mailbox }}\`.`,
  },
  {
    name: 'MailsyncMailboxOAuthConsentRequired', group: 'mailsync-mailboxes', severity: 'critical', for: C.disabledFor,
    expr: disabled(C, 'oauth_consent_required'),
    summary: 'Mailbox disabled: an administrator of the mail provider must approve (consent to) mailsync\'s OAuth2 application.',
    description: `The token endpoint of ${who} says the OAuth2 application lacks an administrator's consent for mail (Microsoft AADSTS65001, Google domain-wide delegation not authorised). An administrator of the provider grants it; then run Test & Enable (\`mailsync mailboxes test-enable {{ $labels.mailbox }}\`).`,
  },
  {
    name: 'MailsyncMailboxApprovalRequired', group: 'mailsync-mailboxes', severity: 'critical', for: C.disabledFor,
    expr: disabled(C, 'email_address_not_approved'),
    summary: 'Mailbox not synced: its email address is not approved.',
    description: `The organization processes mail only for approved mailboxes and ${who} is not approved; mailsync does not contact it. Approve it with \`mailsync mailboxes approve {{ $labels.mailbox }}\` (or reject it).`,
  },
  {
    name: 'MailsyncMailboxLocationUnknown', group: 'mailsync-mailboxes', severity: 'critical', for: C.disabledFor,
    expr: disabled(C, 'mailbox_location_unknown'),
    summary: 'Mailbox disabled: autodiscover cannot find its mail server.',
    description: `mailsync disabled {{ $labels.direction }} sync of ${who}: autodiscover found no server for the address (no DNS SRV record, no autoconfig document). ${bringBack}`,
  },
  {
    name: 'MailsyncMailboxCredentialsRejected', group: 'mailsync-mailboxes', severity: 'critical', for: C.disabledFor,
    expr: disabled(C, 'credentials_rejected|insufficient_permissions'),
    summary: 'Mailbox disabled: credentials are incorrect or lack permissions.',
    description: `mailsync disabled {{ $labels.direction }} sync of ${who} with {{ $labels.code }}. Scope tells whose credentials: see the mailbox's last error (\`mailsync mailboxes show {{ $labels.mailbox }}\`). ${bringBack}`,
  },
  {
    name: 'MailsyncMailboxConfiguredInAnotherOrg', group: 'mailsync-mailboxes', severity: 'critical', for: C.disabledFor,
    expr: disabled(C, 'configured_in_another_org'),
    summary: 'Mailbox disabled: another deployment marked it as its own.',
    description: `${who} carries another organization's ownership mark, so mailsync does not sync it. If this deployment should own it, run \`mailsync mailboxes test-enable {{ $labels.mailbox }} --this-organization-only\`.`,
  },
  {
    name: 'MailsyncMailboxInsecureChannelRefused', group: 'mailsync-mailboxes', severity: 'critical', for: C.disabledFor,
    expr: disabled(C, 'insecure_channel_refused'),
    summary: 'Mailbox disabled: credentials would cross a channel without TLS.',
    description: `mailsync refused to send the credentials of ${who} over a channel without TLS (secure mode required). Configure TLS for the profile, or allow it deliberately in the organization settings. ${bringBack}`,
  },
  {
    name: 'MailsyncMailboxDisabled', group: 'mailsync-mailboxes', severity: 'critical', for: C.disabledFor,
    expr: `mailsync_mailbox_disabled{${C.selector}, code!~"${NAMED_DISABLE_CODES.join('|')}"} == 1`,
    summary: 'Mailbox disabled for synchronization.',
    description: `mailsync disabled {{ $labels.direction }} sync of ${who} with {{ $labels.code }} (a permanent failure, or a transient one that used up its retries). ${bringBack}`,
  },
];

/** A mailbox still enabled, in trouble: tickets, not pages. */
const conditionAlerts = (C: Config): AlertDef[] => [
  {
    name: 'MailsyncMailboxRetryBudgetBurning', group: 'mailsync-mailboxes', severity: 'warning', for: '0s',
    expr: `(mailsync_mailbox_consecutive_failures{${C.selector}} >= ${C.retryBudgetWarnFailures})\nand on(mailbox, direction) (mailsync_mailbox_enabled{${C.selector}} == 1)`,
    summary: 'Mailbox keeps failing and will soon be disabled.',
    description: `{{ $labels.direction }} sync of ${who} failed {{ $value }} times in a row; mailsync disables it once its ${retryBudget} retries (organization.retry.maxTransientRetries) are used up. See \`mailsync mailboxes show {{ $labels.mailbox }}\` for the error.`,
  },
  {
    name: 'MailsyncMailboxNotSyncing', group: 'mailsync-mailboxes', severity: 'warning', for: C.conditionFor,
    expr: `(time() - mailsync_mailbox_last_success_timestamp_seconds{${C.selector}} > ${C.notSyncingSeconds})\nand on(mailbox, direction) (mailsync_mailbox_enabled{${C.selector}} == 1)`,
    summary: 'Enabled mailbox has not synced successfully for a long time.',
    description: `{{ $labels.direction }} sync of ${who} is enabled but last succeeded {{ $value | humanizeDuration }} ago.`,
  },
  {
    name: 'MailsyncMailboxTestEnableTakingLong', group: 'mailsync-mailboxes', severity: 'warning', for: '0s',
    expr: `time() - mailsync_mailbox_test_started_timestamp_seconds{${C.selector}} > ${C.testEnableLongSeconds}`,
    summary: 'Test & Enable has been scheduled or running for a long time.',
    description: `Test & Enable of ${who} was requested {{ $value | humanizeDuration }} ago and has not finished.`,
  },
  {
    name: 'MailsyncAppointmentOrganizerMissing', group: 'mailsync-mailboxes', severity: 'warning', for: '0s',
    expr: risen(`mailsync_mailbox_items_failed_total{${C.selector}, code="appointment_organizer_missing"}`, '1h'),
    summary: 'Appointments cannot be synchronized: organizer missing.',
    description: `{{ $value | humanize }} appointments of ${who} had no organizer in the last hour and were not synchronized; the mailbox keeps syncing.`,
  },
  {
    name: 'MailsyncItemsFailing', group: 'mailsync-mailboxes', severity: 'info', for: '0s',
    // Not the incoming filter's decisions (FILTER_DECISION_CODES): the filter doing its job.
    expr: risen(`mailsync_mailbox_items_failed_total{${C.selector}, code!~"${['appointment_organizer_missing', ...FILTER_DECISION_CODES].join('|')}"}`, '1h'),
    summary: 'Some emails of a mailbox failed to sync.',
    description: `{{ $value | humanize }} items of ${who} failed with {{ $labels.code }} in the last hour; the mailbox keeps syncing. \`mailsync mailboxes show {{ $labels.mailbox }}\` lists them.`,
  },
  {
    name: 'MailsyncPendingSendStuck', group: 'mailsync-mailboxes', severity: 'warning', for: C.conditionFor,
    expr: `mailsync_mailbox_pending_send_oldest_age_seconds{${C.selector}} > ${C.pendingSendStuckSeconds}`,
    summary: 'Email stays Pending Send.',
    description: `The oldest email waiting to be sent from ${who} has waited {{ $value | humanizeDuration }}: outgoing sync is not enabled or not working for the mailbox.`,
  },
  {
    name: 'MailsyncProviderLimitsReached', group: 'mailsync-mailboxes', severity: 'warning', for: '0s',
    expr: risen(`mailsync_mailbox_sync_errors_total{${C.selector}, code=~"provider_throttled|sending_limit_exceeded"}`, '1h'),
    summary: 'The mail provider throttled the mailbox or its sending limit was reached.',
    description: `${who} hit the provider's limits ({{ $labels.code }}, {{ $value | humanize }} times in the last hour). mailsync waits as the provider asks; if it persists, spread the load or raise the provider's limits.`,
  },
];

const profileAlerts = (C: Config): AlertDef[] => [
  {
    name: 'MailsyncProfileMailboxesFailing', group: 'mailsync-profiles', severity: 'warning', for: '0s', labels: { notify: 'owner' },
    // Every runner on a shared store reports the same profile figures (they are read from the
    // store): max without(instance) makes them one series per profile, so three runners fire once.
    expr: `(\n  max without(instance) (mailsync_profile_mailboxes_recently_failed{${C.selector}})\n  / on(profile, job) sum by (profile, job) (max without(instance) (mailsync_profile_mailboxes{${C.selector}}))\n  > ${C.profileFailingShare}\n)\n* on(profile, job) group_left(owner) max without(instance) (mailsync_profile_info{${C.selector}})`,
    summary: 'More than half of a profile\'s mailboxes failed within the last hour.',
    description: `{{ $value | humanizePercentage }} of the mailboxes of profile {{ $labels.profile }} failed within the last hour: the server or the profile's settings are the likely cause. Owner: {{ $labels.owner }}.`,
  },
];

const exporterAlerts = (C: Config): AlertDef[] => [
  {
    name: 'MailsyncExporterDown', group: 'mailsync-exporter', severity: 'critical', for: C.exporterDownFor,
    expr: `up{${C.selector}} == 0`,
    summary: 'mailsync is down: no mailbox is being synced or watched.',
    description: 'Prometheus cannot scrape mailsync at {{ $labels.instance }}; while it is down no mail is synced and no mailbox alert can fire.',
  },
  {
    name: 'MailsyncExporterAbsent', group: 'mailsync-exporter', severity: 'critical', for: C.exporterDownFor,
    expr: `absent(up{${C.selector}})`,
    summary: 'Prometheus has no mailsync target.',
    description: 'No scrape target matches the mailsync selector: the runner is not deployed or the scrape configuration lost it, so every mailsync alert is silent.',
  },
  {
    name: 'MailsyncConfigReloadFailed', group: 'mailsync-exporter', severity: 'warning', for: '5m',
    expr: `mailsync_config_last_reload_successful{${C.selector}} == 0`,
    summary: 'mailsync rejected its config file.',
    description: 'The last reload of the config at {{ $labels.instance }} was rejected; the previous config keeps running. The log line "config reload rejected" lists the problems; `mailsync check-config` shows them too.',
  },
  // B: several runners share the mailboxes by leases; here some have had no holder for two lease periods.
  {
    name: 'MailsyncMailboxesUnleased', group: 'mailsync-exporter', severity: 'warning', for: C.unleasedFor,
    // Every runner reports the same fleet-wide count: one alert per direction, not one per runner.
    expr: `max by (direction, job) (mailsync_mailboxes_unleased{${C.selector}}) > 0`,
    summary: 'Some mailboxes are synced by no runner.',
    description: '{{ $value }} configured {{ $labels.direction }} mailbox directions have had no runner holding their lease for longer than two lease periods: no runner is claiming them, so they are not synced. `mailsync_leases_held` shows what each runner holds.',
  },
  // F: a webhook whose deliveries keep failing, with none getting through.
  {
    name: 'MailsyncWebhookFailing', group: 'mailsync-exporter', severity: 'warning', for: C.conditionFor,
    expr: `(\n  sum by (webhook, instance, job) (increase(mailsync_webhook_deliveries_total{${C.selector}, result=~"retry|dead"}[15m])) > 0\n)\nunless on(webhook, instance, job)\n(\n  sum by (webhook, instance, job) (increase(mailsync_webhook_deliveries_total{${C.selector}, result="delivered"}[15m])) > 0\n)`,
    summary: 'A webhook keeps failing: its receiver gets no change.',
    description: 'Every delivery to webhook {{ $labels.webhook }} failed in the last 15 minutes ({{ $value | humanize }} failed attempts) and none got through; changes wait in the outbox and, once their retry budget is spent, are dead-lettered. `GET /api/webhooks/deliveries?state=pending` shows the last error of each.',
  },
];

export const buildAlerts = (C: Config): AlertDef[] => [...disableAlerts(C), ...conditionAlerts(C), ...profileAlerts(C), ...exporterAlerts(C)];

/** mailsync's alerts with its own values: what alerts/rules holds. */
export const ALERTS: AlertDef[] = buildAlerts(ALERT_CONFIG);

export function runbookUrl(name: string, C: Config = ALERT_CONFIG): string {
  if (C.runbookUrlPattern.split('%s').length !== 2) {
    throw new Error(`runbookUrlPattern must contain %s exactly once, where the alert's anchor goes: ${JSON.stringify(C.runbookUrlPattern)}`);
  }
  return C.runbookUrlPattern.replace('%s', name.toLowerCase());
}

export const GROUPS: readonly Group[] = ['mailsync-mailboxes', 'mailsync-profiles', 'mailsync-exporter'];

/** The rule files, one per group, as Prometheus loads them. */
export function ruleFiles(C: Config = ALERT_CONFIG): Record<Group, { groups: object[] }> {
  const alerts = buildAlerts(C);
  return Object.fromEntries(GROUPS.map((g) => [g, {
    groups: [{
      name: g,
      rules: alerts.filter((a) => a.group === g).map((a) => ({
        alert: a.name,
        expr: a.expr,
        for: a.for,
        labels: { severity: a.severity, ...a.labels },
        annotations: { summary: a.summary, description: a.description, runbook_url: runbookUrl(a.name, C) },
      })),
    }],
  }])) as Record<Group, { groups: object[] }>;
}
