import { PanelPlugin } from '@grafana/data';
import { SummaryPanel } from './components/SummaryPanel';
import type { SummaryOptions } from './types';

export const plugin = new PanelPlugin<SummaryOptions>(SummaryPanel).setPanelOptions((builder) =>
  builder
    .addNumberInput({ path: 'longTestMinutes', name: 'Long Test & Enable (minutes)', description: 'Scheduled or running for longer counts as "taking over a long time".', defaultValue: 15, settings: { min: 1, integer: true } })
    .addNumberInput({ path: 'retryBudget', name: 'Retry budget', description: "mailsync's organization.retry.maxTransientRetries: shown as retries used of the budget.", defaultValue: 10, settings: { min: 0, integer: true } })
    .addTextInput({ path: 'runbookBaseUrl', name: 'Runbook URL', description: 'Error codes are its anchors.', defaultValue: 'https://github.com/mailsync/mailsync/blob/main/alerts/runbook.md' })
    .addTextInput({ path: 'mailboxLinkTemplate', name: 'Mailbox link', description: '${mailbox} is replaced by the mailbox id.', defaultValue: '/d/mailsync-mailbox/mailsync-mailbox-status?var-mailbox=${mailbox}' })
    .addNumberInput({ path: 'pageSize', name: 'Rows per page', defaultValue: 100, settings: { min: 10, max: 1000, integer: true } }),
);
