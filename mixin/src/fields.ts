/**
 * The mixin's `_config` fields, and the stand-ins that carry them through the TypeScript builders:
 * the alert rules and dashboards are built once with a stand-in in place of each value, and every
 * stand-in found in the result becomes a reference to its field. Pure.
 */
import { ALERT_CONFIG, type AlertConfig } from '../../alerts/src/config.js';
import { DASHBOARD_CONFIG, type DashboardConfig } from '../../dashboards/src/config.js';
import { quote, toJsonnet, type Substitute } from './jsonnet.js';

interface Field {
  /** The comment above the field in config.libsonnet. */
  doc: string;
  /** Its default, as a jsonnet expression. */
  value: string;
}

/** A value must mean the same in the rules and the dashboards before it can be one field of both. */
function same<T>(what: string, a: T, b: T): T {
  if (a !== b) throw new Error(`${what} differs between alerts/src/config.ts (${String(a)}) and dashboards/src/config.ts (${String(b)}): the mixin has one field for both`);
  return a;
}

const runbookURL = DASHBOARD_CONFIG.runbookUrl;
const pattern = same('runbookUrlPattern', ALERT_CONFIG.runbookUrlPattern, DASHBOARD_CONFIG.runbookUrlPattern);
same('the long Test & Enable threshold (in seconds)', ALERT_CONFIG.testEnableLongSeconds, DASHBOARD_CONFIG.testEnableLongMinutes * 60);
const data = (v: string | number) => toJsonnet(v, () => undefined);

export const FIELDS = {
  mailsyncSelector: { doc: 'Selects the scrape jobs of mailsync, in every rule and in the dashboards\' runner count.', value: data(same('selector', ALERT_CONFIG.selector, DASHBOARD_CONFIG.selector)) },
  runbookURL: { doc: 'The runbook page, linked from the dashboards and the summary panel (error codes are its anchors).', value: data(runbookURL) },
  runbookURLPattern: {
    doc: 'An alert\'s runbook_url, and an error code\'s link on the mailbox dashboard: %s is the anchor (the alert name in lower case, or the code).',
    // Late-bound, so that moving the runbook (runbookURL) moves the alerts' links too.
    value: pattern === `${runbookURL}#%s` ? "self.runbookURL + '#%s'" : data(pattern),
  },
  retryBudgetWarnFailures: { doc: 'Failures in a row before MailsyncMailboxRetryBudgetBurning warns (half the default retry budget).', value: data(ALERT_CONFIG.retryBudgetWarnFailures) },
  notSyncingSeconds: { doc: 'An enabled mailbox without a successful run for this long is MailsyncMailboxNotSyncing.', value: data(ALERT_CONFIG.notSyncingSeconds) },
  profileFailingShare: { doc: 'Share of a profile\'s mailboxes failing within an hour above which its owner is told.', value: data(ALERT_CONFIG.profileFailingShare) },
  pendingSendStuckSeconds: { doc: 'Age of the oldest Pending Send email above which MailsyncPendingSendStuck fires.', value: data(ALERT_CONFIG.pendingSendStuckSeconds) },
  testEnableLongSeconds: { doc: 'Test & Enable scheduled or running longer than this is "taking over a long time" (the alert and the summary panel).', value: data(ALERT_CONFIG.testEnableLongSeconds) },
  exporterDownFor: { doc: '`for` of the alerts on the runner being down or absent.', value: data(ALERT_CONFIG.exporterDownFor) },
  disabledFor: { doc: '`for` of the mailbox-disabled alerts: mailsync\'s policy has already debounced the state.', value: data(ALERT_CONFIG.disabledFor) },
  conditionFor: { doc: '`for` of the conditions measured over time (not syncing, Pending Send stuck).', value: data(ALERT_CONFIG.conditionFor) },
  unleasedFor: { doc: '`for` of MailsyncMailboxesUnleased: two lease periods of leases.seconds (set both together).', value: data(ALERT_CONFIG.unleasedFor) },
  performanceDashboardUid: { doc: 'uid of the synchronization performance dashboard (links between the dashboards follow it).', value: data(DASHBOARD_CONFIG.performanceUid) },
  mailboxDashboardUid: { doc: 'uid of the mailbox status dashboard (the summary panel and the tables link to it).', value: data(DASHBOARD_CONFIG.mailboxUid) },
} satisfies Record<string, Field>;

export type FieldName = keyof typeof FIELDS;

/** A field in place of a value. */
const ref = (name: FieldName) => `\u27e6${name}\u27e7`;
/** A field holding a pattern: the builders put the pattern's argument where its `%s` is, after the stand-in. */
const patternRef = (name: FieldName) => `\u27e6${name}%\u27e7%s`;
/** A number the dashboards never hold, for the panel option that is a number, not text. */
const LONG_TEST_MINUTES = -7_000_001;
const NUMBERS = new Map<number, { field: FieldName; expr: string }>([[LONG_TEST_MINUTES, { field: 'testEnableLongSeconds', expr: '$._config.testEnableLongSeconds / 60' }]]);

export const ALERT_STANDINS: AlertConfig<string> = {
  selector: ref('mailsyncSelector'),
  runbookUrlPattern: patternRef('runbookURLPattern'),
  retryBudgetWarnFailures: ref('retryBudgetWarnFailures'),
  notSyncingSeconds: ref('notSyncingSeconds'),
  profileFailingShare: ref('profileFailingShare'),
  pendingSendStuckSeconds: ref('pendingSendStuckSeconds'),
  testEnableLongSeconds: ref('testEnableLongSeconds'),
  exporterDownFor: ref('exporterDownFor'),
  disabledFor: ref('disabledFor'),
  conditionFor: ref('conditionFor'),
  unleasedFor: ref('unleasedFor'),
};

export const DASHBOARD_STANDINS: DashboardConfig = {
  selector: ref('mailsyncSelector'),
  runbookUrl: ref('runbookURL'),
  runbookUrlPattern: patternRef('runbookURLPattern'),
  performanceUid: ref('performanceDashboardUid'),
  mailboxUid: ref('mailboxDashboardUid'),
  testEnableLongMinutes: LONG_TEST_MINUTES,
};

function field(name: string, used: Set<FieldName>, value: string): FieldName {
  if (!(name in FIELDS)) throw new Error(`unknown _config field ${name} in ${JSON.stringify(value)}`);
  used.add(name as FieldName);
  return name as FieldName;
}

/**
 * Turns stand-ins into jsonnet: a whole value into `$._config.x`, a pattern into
 * `$._config.x % 'argument'`, text around fields into a named format (`'...%(x)s...' % $._config`,
 * the kubernetes-mixin way). Records each field it meets in `used`.
 */
export function substitute(used: Set<FieldName>): Substitute {
  return (value) => {
    if (typeof value === 'number') {
      const n = NUMBERS.get(value);
      if (n) used.add(n.field);
      return n?.expr;
    }
    if (!value.includes('\u27e6')) return undefined;
    const whole = /^\u27e6(\w+)\u27e7$/.exec(value);
    if (whole) return `$._config.${field(whole[1] as string, used, value)}`;
    const pat = /^\u27e6(\w+)%\u27e7([^\u27e6]*)$/s.exec(value);
    if (pat) return `$._config.${field(pat[1] as string, used, value)} % ${quote(pat[2] as string)}`;
    if (value.includes('%\u27e7')) throw new Error(`a pattern field must be the whole value, its argument after it: ${JSON.stringify(value)}`);
    const format = value.split(/\u27e6(\w+)\u27e7/).map((part, i) => (i % 2 ? `%(${field(part, used, value)})s` : part.replaceAll('%', '%%'))).join('');
    return `${quote(format)} % $._config`;
  };
}
