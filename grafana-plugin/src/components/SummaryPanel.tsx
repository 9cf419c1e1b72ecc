import { css } from '@emotion/css';
import type { GrafanaTheme2, PanelProps } from '@grafana/data';
import { PanelDataErrorView } from '@grafana/runtime';
import { Button, useStyles2 } from '@grafana/ui';
import React, { useMemo, useState } from 'react';
import { joinFrames, QUERIES } from '../data/frames';
import { select, summarize, type Selection } from '../data/summary';
import type { SummaryOptions } from '../types';
import { MailboxList } from './MailboxList';
import { RecordsTable } from './RecordsTable';
import { StatusCard } from './StatusCard';
import { SummaryView } from './SummaryView';
import { testIds } from './testIds';

type View = { kind: 'summary' } | { kind: 'list'; selection: Selection } | { kind: 'mailbox'; mailbox: string; from: Selection };

/** One level up: a mailbox goes back to the list it was opened from, a list to the summary. */
function back(view: View): View {
  if (view.kind === 'mailbox') return { kind: 'list', selection: view.from };
  return { kind: 'summary' };
}

const HINT = `This panel expects instant Prometheus queries with these refIds: ${Object.entries(QUERIES).map(([ref, q]) => `${ref}: ${q}`).join('; ')}.`;

/**
 * The product's summary of server-side synchronization with drill-down: counts → the mailboxes
 * behind a count → one mailbox's status. A grid button shows the joined records behind the view.
 */
export function SummaryPanel({ data, options, width, height, id, fieldConfig }: PanelProps<SummaryOptions>) {
  const styles = useStyles2(getStyles);
  const [view, setView] = useState<View>({ kind: 'summary' });
  const [showRecords, setShowRecords] = useState(false);
  const joined = useMemo(() => joinFrames(data.series), [data.series]);
  // Ages are judged against the time the data was queried, so a dashboard left open stays consistent.
  const now = data.timeRange.to.valueOf();
  const longTestMs = options.longTestMinutes * 60_000;

  if (!joined.ok) {
    return <PanelDataErrorView panelId={id} fieldConfig={fieldConfig} data={data} message={`${joined.problem}. ${HINT}`} />;
  }
  const rows = joined.mailboxes;
  const summary = summarize(rows, now, longTestMs);
  const selection: Selection = view.kind === 'summary' ? { kind: 'all' } : view.kind === 'list' ? view.selection : view.from;
  const shown = view.kind === 'mailbox' ? rows.filter((r) => r.mailbox === view.mailbox) : select(rows, selection, now, longTestMs);

  return (
    <div className={styles.panel} style={{ width, height }} data-testid={testIds.panel}>
      <div className={styles.toolbar}>
        {view.kind !== 'summary' && (
          <Button size="sm" variant="secondary" fill="text" icon="arrow-left" data-testid={testIds.back} onClick={() => setView(back(view))}>
            Back
          </Button>
        )}
        <span className={styles.spacer} />
        <Button size="sm" variant="secondary" fill="text" icon="table" aria-pressed={showRecords} data-testid={testIds.recordsToggle}
          tooltip={showRecords ? 'Hide the records behind this view' : 'Show the records behind this view'} onClick={() => setShowRecords(!showRecords)}>
          Records
        </Button>
      </div>
      {showRecords ? <RecordsTable rows={shown} /> : (
        <>
          {view.kind === 'summary' && <SummaryView summary={summary} longTestMinutes={options.longTestMinutes} onOpen={(s) => setView({ kind: 'list', selection: s })} />}
          {view.kind === 'list' && <MailboxList rows={shown} selection={view.selection} pageSize={options.pageSize} onOpen={(m) => setView({ kind: 'mailbox', mailbox: m, from: view.selection })} />}
          {view.kind === 'mailbox' && shown[0] && <StatusCard row={shown[0]} options={options} now={now} />}
        </>
      )}
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  panel: css({ display: 'flex', flexDirection: 'column', overflow: 'auto', padding: theme.spacing(0.5) }),
  toolbar: css({ display: 'flex', alignItems: 'center', gap: theme.spacing(1), minHeight: theme.spacing(3) }),
  spacer: css({ flex: 1 }),
});
