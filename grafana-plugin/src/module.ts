import { PanelPlugin } from '@grafana/data';
import { SummaryPanel } from './components/SummaryPanel';
import { DEFAULT_OPTIONS as D, type SummaryOptions } from './options';

export const plugin = new PanelPlugin<SummaryOptions>(SummaryPanel).setPanelOptions((builder) =>
  builder
    .addNumberInput({ path: 'longTestMinutes', name: 'Long Test & Enable (minutes)', description: 'Scheduled or running for longer counts as "taking over a long time".', defaultValue: D.longTestMinutes, settings: { min: 1, integer: true } })
    .addNumberInput({ path: 'retryBudget', name: 'Retry budget', description: "mailsync's organization.retry.maxTransientRetries: shown as retries used of the budget.", defaultValue: D.retryBudget, settings: { min: 0, integer: true } })
    .addTextInput({ path: 'runbookBaseUrl', name: 'Runbook URL', description: 'Error codes are its anchors.', defaultValue: D.runbookBaseUrl })
    .addTextInput({ path: 'mailboxLinkTemplate', name: 'Mailbox link', description: '${mailbox} is replaced by the mailbox id.', defaultValue: D.mailboxLinkTemplate })
    .addNumberInput({ path: 'pageSize', name: 'Rows per page', defaultValue: D.pageSize, settings: { min: 10, max: 1000, integer: true } }),
);
