import { css } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';
import { useStyles2 } from '@grafana/ui';
import React from 'react';
import { isLongTest } from '../data/summary';
import { DIRECTIONS, type MailboxRow, type SummaryOptions } from '../types';
import { fillTemplate, formatTime } from './format';
import { testIds } from './testIds';

interface Props {
  row: MailboxRow;
  options: SummaryOptions;
  now: number;
}

/** One mailbox: per direction its state, last error with class and scope, retries used, runbook. */
export function StatusCard({ row, options, now }: Props) {
  const styles = useStyles2(getStyles);
  const testing = row.testStartedAt !== null;
  return (
    <section className={styles.card} data-testid={testIds.card} aria-label={`Status of ${row.mailbox}`}>
      <h3 className={styles.title}>{row.mailbox} <span className={styles.address}>&lt;{row.address}&gt;</span></h3>
      <p className={styles.meta}>
        Profile {row.profile} · health <strong className={styles[row.health]}>{row.health}</strong>
        {testing && <> · Test &amp; Enable {isLongTest(row, now, options.longTestMinutes * 60_000) ? 'taking over a long time, ' : ''}requested {formatTime(row.testStartedAt)}</>}
        {' · '}<a className={styles.link} href={fillTemplate(options.mailboxLinkTemplate, row.mailbox)}>Mailbox dashboard</a>
      </p>
      <table className={styles.table}>
        <thead>
          <tr><th>Direction</th><th>State</th><th>Last error</th><th>Retries used</th><th>Last success</th><th>Runbook</th></tr>
        </thead>
        <tbody>
          {DIRECTIONS.filter((d) => row.directions[d]).map((d) => {
            const x = row.directions[d]!;
            const code = x.disabledCode ?? x.lastError?.code ?? null;
            return (
              <tr key={d}>
                <td>{d}</td>
                <td className={x.enabled ? styles.healthy : x.disabledCode ? styles.failing : styles.inactive}>
                  {x.enabled ? 'enabled' : x.disabledCode ? `disabled: ${x.disabledCode}` : 'disabled by an operator'}
                </td>
                <td>{x.lastError ? `${x.lastError.code} (${x.lastError.class}, ${x.lastError.scope}) at ${formatTime(x.lastError.at)}` : '-'}</td>
                <td>{Math.max(0, x.consecutiveFailures - 1)} of {options.retryBudget}</td>
                <td>{formatTime(x.lastSuccessAt)}</td>
                <td>{code ? <a className={styles.link} href={`${options.runbookBaseUrl}#${code}`}>{code}</a> : '-'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  card: css({ padding: theme.spacing(1) }),
  title: css({ margin: 0, fontSize: theme.typography.h4.fontSize }),
  address: css({ color: theme.colors.text.secondary, fontWeight: theme.typography.fontWeightRegular }),
  meta: css({ color: theme.colors.text.secondary, margin: theme.spacing(0.5, 0, 1, 0) }),
  link: css({ color: theme.colors.text.link }),
  table: css({
    width: '100%', borderCollapse: 'collapse', fontSize: theme.typography.bodySmall.fontSize,
    'th, td': { textAlign: 'left', padding: theme.spacing(0.5, 1), borderBottom: `1px solid ${theme.colors.border.weak}` },
  }),
  healthy: css({ color: theme.colors.success.text }),
  failing: css({ color: theme.colors.error.text }),
  intermittent: css({ color: theme.colors.warning.text }),
  inactive: css({ color: theme.colors.warning.text }),
  testing: css({ color: theme.colors.warning.text }),
});
