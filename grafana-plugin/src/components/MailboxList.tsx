import { css } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';
import { Button, Input, useStyles2 } from '@grafana/ui';
import React, { useMemo, useState } from 'react';
import type { Selection } from '../data/summary';
import { DIRECTIONS, type Direction, type MailboxRow } from '../types';
import { formatTime } from './format';
import { testIds } from './testIds';

type Column = 'mailbox' | 'address' | 'profile' | Direction | 'error' | 'success';
const COLUMNS: { key: Column; title: string }[] = [
  { key: 'mailbox', title: 'Name' }, { key: 'address', title: 'Address' }, { key: 'profile', title: 'Profile' },
  { key: 'incoming', title: 'Incoming' }, { key: 'outgoing', title: 'Outgoing' }, { key: 'act', title: 'ACT' },
  { key: 'error', title: 'Last error' }, { key: 'success', title: 'Last success' },
];

const TITLES: Record<string, string> = {
  all: 'All mailboxes', healthy: 'Healthy and running', failing: 'With continuous errors', intermittent: 'Having intermittent processing issues',
  inactive: 'No longer processing or not enabled yet', testing: 'Scheduled or running Test & Enable', testingLong: 'Test & Enable taking over a long time',
};

function enabledText(r: MailboxRow, d: Direction): string {
  const x = r.directions[d];
  if (!x) return '-';
  return x.enabled ? 'enabled' : x.disabledCode ? `disabled (${x.disabledCode})` : 'disabled';
}
function lastError(r: MailboxRow): string {
  return DIRECTIONS.map((d) => r.directions[d]?.lastError).filter((e) => e).sort((a, b) => b!.at - a!.at)[0]?.code ?? '';
}
function lastSuccess(r: MailboxRow): number {
  return Math.max(0, ...DIRECTIONS.map((d) => r.directions[d]?.lastSuccessAt ?? 0));
}
function sortValue(r: MailboxRow, c: Column): string | number {
  switch (c) {
    case 'incoming': case 'outgoing': case 'act': return enabledText(r, c);
    case 'error': return lastError(r);
    case 'success': return lastSuccess(r);
    default: return r[c];
  }
}

interface Props {
  rows: MailboxRow[];
  selection: Selection;
  pageSize: number;
  onOpen: (mailbox: string) => void;
}

/** The mailboxes behind a number: search, sort by any column, pages of `pageSize` rows. */
export function MailboxList({ rows, selection, pageSize, onOpen }: Props) {
  const styles = useStyles2(getStyles);
  const [query, setQuery] = useState('');
  const [sort, setSort] = useState<{ column: Column; descending: boolean }>({ column: 'mailbox', descending: false });
  const [page, setPage] = useState(0);
  const filtered = useMemo(() => {
    const q = query.trim().toLowerCase();
    const matching = q === '' ? rows : rows.filter((r) => r.mailbox.toLowerCase().includes(q) || r.address.toLowerCase().includes(q) || r.profile.toLowerCase().includes(q));
    const sign = sort.descending ? -1 : 1;
    return [...matching].sort((a, b) => {
      const x = sortValue(a, sort.column);
      const y = sortValue(b, sort.column);
      return sign * (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y)));
    });
  }, [rows, query, sort]);
  const pages = Math.max(1, Math.ceil(filtered.length / pageSize));
  const current = Math.min(page, pages - 1);
  const shown = filtered.slice(current * pageSize, (current + 1) * pageSize);
  const title = selection.kind === 'health' ? TITLES[selection.health] : TITLES[selection.kind];

  return (
    <div className={styles.list} data-testid={testIds.list}>
      <div className={styles.header}>
        <h3 className={styles.title}>{title} ({filtered.length})</h3>
        <Input className={styles.search} placeholder="Search name, address or profile" aria-label="Search mailboxes" value={query}
          data-testid={testIds.search} onChange={(e) => { setQuery(e.currentTarget.value); setPage(0); }} />
      </div>
      <table className={styles.table}>
        <thead>
          <tr>
            {COLUMNS.map((c) => (
              <th key={c.key} aria-sort={sort.column === c.key ? (sort.descending ? 'descending' : 'ascending') : 'none'}>
                <button type="button" className={styles.sort} onClick={() => setSort({ column: c.key, descending: sort.column === c.key ? !sort.descending : false })}>
                  {c.title}{sort.column === c.key ? (sort.descending ? ' ▼' : ' ▲') : ''}
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {shown.map((r) => (
            <tr key={r.mailbox} data-testid={testIds.row(r.mailbox)}>
              <td><button type="button" className={styles.link} onClick={() => onOpen(r.mailbox)}>{r.mailbox}</button></td>
              <td>{r.address}</td>
              <td>{r.profile}</td>
              <td>{enabledText(r, 'incoming')}</td>
              <td>{enabledText(r, 'outgoing')}</td>
              <td>{enabledText(r, 'act')}</td>
              <td>{lastError(r)}</td>
              <td>{formatTime(lastSuccess(r) || null)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {pages > 1 && (
        <div className={styles.pager}>
          <Button size="sm" variant="secondary" disabled={current === 0} onClick={() => setPage(current - 1)}>Previous</Button>
          <span>Page {current + 1} of {pages}</span>
          <Button size="sm" variant="secondary" disabled={current >= pages - 1} onClick={() => setPage(current + 1)}>Next</Button>
        </div>
      )}
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  list: css({ padding: theme.spacing(0.5) }),
  header: css({ display: 'flex', alignItems: 'center', gap: theme.spacing(2), marginBottom: theme.spacing(1) }),
  title: css({ margin: 0, fontSize: theme.typography.h5.fontSize }),
  search: css({ maxWidth: 320 }),
  table: css({
    width: '100%', borderCollapse: 'collapse', fontSize: theme.typography.bodySmall.fontSize,
    'th, td': { textAlign: 'left', padding: theme.spacing(0.5, 1), borderBottom: `1px solid ${theme.colors.border.weak}` },
  }),
  sort: css({ background: 'none', border: 'none', color: theme.colors.text.secondary, font: 'inherit', fontWeight: theme.typography.fontWeightMedium, cursor: 'pointer', padding: 0 }),
  link: css({ background: 'none', border: 'none', color: theme.colors.text.link, font: 'inherit', cursor: 'pointer', padding: 0, '&:hover': { textDecoration: 'underline' } }),
  pager: css({ display: 'flex', alignItems: 'center', gap: theme.spacing(1), marginTop: theme.spacing(1) }),
});
