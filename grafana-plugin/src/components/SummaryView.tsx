import { css } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';
import { useStyles2 } from '@grafana/ui';
import React from 'react';
import type { Selection, Summary } from '../data/summary';
import { testIds } from './testIds';

interface Props {
  summary: Summary;
  longTestMinutes: number;
  onOpen: (selection: Selection) => void;
}

/** The product's summary, in its words; every number is a button to the mailboxes behind it. */
export function SummaryView({ summary, longTestMinutes, onOpen }: Props) {
  const styles = useStyles2(getStyles);
  const count = (key: string, value: number, selection: Selection, tone: string, label: string) => (
    <button type="button" className={`${styles.count} ${tone}`} data-testid={testIds.count(key)} aria-label={`${value} ${label}`} onClick={() => onOpen(selection)}>
      {value}
    </button>
  );
  const b = summary.byHealth;
  return (
    <div className={styles.summary} data-testid={testIds.summary}>
      <p className={styles.total}>
        {count('total', summary.total, { kind: 'all' }, styles.neutral, 'mailboxes configured')} mailboxes are configured for server-side synchronization
      </p>
      <ul className={styles.list}>
        <li>{count('healthy', b.healthy, { kind: 'health', health: 'healthy' }, styles.healthy, 'healthy and running')} healthy and running</li>
        <li>{count('failing', b.failing, { kind: 'health', health: 'failing' }, styles.failing, 'with continuous errors')} with continuous errors and need your attention</li>
        <li>
          <span className={`${styles.countStatic} ${styles.warning}`} data-testid={testIds.count('warnings')}>{summary.warnings}</span> running with warnings
          <ul className={styles.sublist}>
            <li>{count('intermittent', b.intermittent, { kind: 'health', health: 'intermittent' }, styles.warning, 'having intermittent processing issues')} having intermittent processing issues</li>
            <li>{count('inactive', b.inactive, { kind: 'health', health: 'inactive' }, styles.warning, 'no longer processing or not enabled yet')} no longer processing or not enabled yet</li>
            <li>
              {count('testing', b.testing, { kind: 'health', health: 'testing' }, styles.warning, 'with Test & Enable scheduled or running')} scheduled or running Test &amp; Enable,{' '}
              {count('testingLong', summary.testingLong, { kind: 'testingLong' }, styles.warning, `taking over ${longTestMinutes} minutes`)} of them taking over a long time
            </li>
          </ul>
        </li>
      </ul>
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => {
  const button = {
    background: 'none', border: 'none', padding: theme.spacing(0, 0.5), font: 'inherit', fontSize: theme.typography.h3.fontSize,
    fontWeight: theme.typography.fontWeightMedium, cursor: 'pointer', borderRadius: theme.shape.radius.default,
    '&:hover': { textDecoration: 'underline' },
    '&:focus-visible': { outline: `2px solid ${theme.colors.primary.main}`, outlineOffset: 2 },
  };
  return {
    summary: css({ padding: theme.spacing(1), color: theme.colors.text.primary }),
    total: css({ margin: theme.spacing(0, 0, 1, 0) }),
    list: css({ listStyle: 'none', padding: 0, margin: 0, '& > li': { margin: theme.spacing(0.75, 0) } }),
    sublist: css({ listStyle: 'none', paddingLeft: theme.spacing(4), margin: theme.spacing(0.5, 0, 0, 0), '& > li': { margin: theme.spacing(0.5, 0) } }),
    count: css(button),
    countStatic: css({ ...button, cursor: 'default', '&:hover': {} }),
    neutral: css({ color: theme.colors.text.primary }),
    healthy: css({ color: theme.colors.success.text }),
    failing: css({ color: theme.colors.error.text }),
    warning: css({ color: theme.colors.warning.text }),
  };
};
