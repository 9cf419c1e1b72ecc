/** Stable hooks for the unit and browser tests. */
export const testIds = {
  panel: 'mailsync-summary-panel',
  back: 'mailsync-back',
  recordsToggle: 'mailsync-records-toggle',
  records: 'mailsync-records',
  summary: 'mailsync-summary',
  count: (key: string) => `mailsync-count-${key}`,
  list: 'mailsync-list',
  search: 'mailsync-search',
  row: (mailbox: string) => `mailsync-row-${mailbox}`,
  card: 'mailsync-status-card',
  itemFailures: 'mailsync-item-failures',
};
