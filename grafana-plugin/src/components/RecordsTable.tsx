import { css } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';
import { useStyles2 } from '@grafana/ui';
import React from 'react';
import { DIRECTIONS, type MailboxRow } from '../types';
import { formatTime } from './format';
import { testIds } from './testIds';

/** The joined records the current view is computed from, one row per mailbox and direction. */
export function RecordsTable({ rows }: { rows: MailboxRow[] }) {
  const styles = useStyles2(getStyles);
  const records = rows.flatMap((r) => {
    const ds = DIRECTIONS.filter((d) => r.directions[d]);
    return (ds.length > 0 ? ds : [undefined]).map((d) => ({ r, d, x: d ? r.directions[d] : undefined }));
  });
  return (
    <div className={styles.wrap} data-testid={testIds.records}>
      <table className={styles.table}>
        <thead>
          <tr>
            <th>mailbox</th><th>address</th><th>profile</th><th>health</th><th>direction</th><th>enabled</th><th>disabled code</th>
            <th>consecutive failures</th><th>last error</th><th>last success</th><th>Test &amp; Enable since</th>
          </tr>
        </thead>
        <tbody>
          {records.slice(0, 1_000).map(({ r, d, x }) => (
            <tr key={`${r.mailbox}/${d ?? '-'}`}>
              <td>{r.mailbox}</td><td>{r.address}</td><td>{r.profile}</td><td>{r.health}</td><td>{d ?? '-'}</td>
              <td>{x ? String(x.enabled) : '-'}</td><td>{x?.disabledCode ?? ''}</td><td>{x?.consecutiveFailures ?? ''}</td>
              <td>{x?.lastError ? `${x.lastError.code} ${formatTime(x.lastError.at)}` : ''}</td><td>{formatTime(x?.lastSuccessAt ?? null)}</td>
              <td>{formatTime(r.testStartedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {records.length > 1_000 && <p>Showing the first 1,000 of {records.length} records.</p>}
      <ItemFailures rows={rows} className={styles.table} />
    </div>
  );
}

/**
 * "Incoming Emails Failed To Sync" for the mailboxes of the view: counts by direction and code.
 * Subject and Message-ID are no metric labels (unbounded): the runner's status page (Failed items)
 * and /api/failures list each item.
 */
function ItemFailures({ rows, className }: { rows: MailboxRow[]; className: string }) {
  const failures = rows.flatMap((r) => r.itemFailures.map((f) => ({ mailbox: r.mailbox, ...f }))).sort((a, b) => b.count - a.count);
  if (failures.length === 0) return <p data-testid={testIds.itemFailures}>No item failures recorded for these mailboxes.</p>;
  return (
    <table className={className} data-testid={testIds.itemFailures}>
      <caption>Item failures (each email that failed; the mailbox kept syncing)</caption>
      <thead><tr><th>mailbox</th><th>direction</th><th>code</th><th>count</th></tr></thead>
      <tbody>
        {failures.slice(0, 1_000).map((f) => (
          <tr key={`${f.mailbox}/${f.direction}/${f.code}`}><td>{f.mailbox}</td><td>{f.direction}</td><td>{f.code}</td><td>{f.count}</td></tr>
        ))}
      </tbody>
    </table>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  wrap: css({ overflow: 'auto' }),
  table: css({
    borderCollapse: 'collapse', fontSize: theme.typography.bodySmall.fontSize, fontFamily: theme.typography.fontFamilyMonospace,
    'th, td': { textAlign: 'left', padding: theme.spacing(0.25, 1), borderBottom: `1px solid ${theme.colors.border.weak}`, whiteSpace: 'nowrap' },
  }),
});
