// @vitest-environment jsdom
import { dateTime, LoadingState, type PanelData, type PanelProps } from '@grafana/data';
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import React from 'react';
import { describe, expect, it } from 'vitest';
import { fleet, NOW, table } from '../test/frames';
import { DEFAULT_OPTIONS } from '../options';
import type { SummaryOptions } from '../types';
import { SummaryPanel } from './SummaryPanel';
import { testIds } from './testIds';

/** A new panel's defaults, with links of its own so the test sees they are followed. */
const OPTIONS: SummaryOptions = {
  ...DEFAULT_OPTIONS, runbookBaseUrl: 'https://runbook.example/runbook.md', mailboxLinkTemplate: '/d/mailsync-mailbox/x?var-mailbox=${mailbox}',
};

function props(series = fleet(), options: Partial<SummaryOptions> = {}): PanelProps<SummaryOptions> {
  const data: PanelData = { state: LoadingState.Done, series, timeRange: { from: dateTime(NOW - 3_600_000), to: dateTime(NOW), raw: { from: 'now-1h', to: 'now' } } };
  return {
    id: 1, data, options: { ...OPTIONS, ...options }, width: 800, height: 600, transparent: false, title: 'Summary',
    timeRange: data.timeRange, timeZone: 'utc', renderCounter: 1, replaceVariables: (s: string) => s, onChangeTimeRange: () => undefined,
    onOptionsChange: () => undefined, onFieldConfigChange: () => undefined, fieldConfig: { defaults: {}, overrides: [] }, eventBus: {} as PanelProps['eventBus'],
  } as PanelProps<SummaryOptions>;
}

const count = (key: string) => screen.getByTestId(testIds.count(key));

describe('SummaryPanel', () => {
  it('shows the product\'s summary counts', () => {
    render(<SummaryPanel {...props()} />);
    expect(screen.getByTestId(testIds.summary).textContent).toContain('mailboxes are configured for server-side synchronization');
    expect([count('total'), count('healthy'), count('failing'), count('warnings'), count('intermittent'), count('inactive'), count('testing'), count('testingLong')].map((e) => e.textContent))
      .toEqual(['5', '1', '1', '3', '1', '1', '1', '1']);
  });

  it('drills down: a number → its mailboxes → one mailbox → back', async () => {
    const user = userEvent.setup();
    render(<SummaryPanel {...props()} />);
    await user.click(count('failing'));
    const list = screen.getByTestId(testIds.list);
    expect(within(list).getByRole('heading').textContent).toBe('With continuous errors (1)');
    expect(within(list).getByTestId(testIds.row('bob')).textContent).toContain('disabled (credentials_rejected)');
    await user.click(within(list).getByRole('button', { name: 'bob' }));
    const card = screen.getByTestId(testIds.card);
    expect(card.textContent).toContain('disabled: credentials_rejected');
    expect(card.textContent).toContain('credentials_rejected (permanent, mailbox)');
    expect(card.textContent).toContain(`0 of ${DEFAULT_OPTIONS.retryBudget}`);
    expect(within(card).getByRole('link', { name: 'credentials_rejected' }).getAttribute('href')).toBe('https://runbook.example/runbook.md#credentials_rejected');
    expect(within(card).getByRole('link', { name: 'Mailbox dashboard' }).getAttribute('href')).toBe('/d/mailsync-mailbox/x?var-mailbox=bob');
    await user.click(screen.getByTestId(testIds.back));
    expect(screen.getByTestId(testIds.list)).toBeTruthy();
    await user.click(screen.getByTestId(testIds.back));
    expect(screen.getByTestId(testIds.summary)).toBeTruthy();
  });

  it('opens the long-running Test & Enable mailboxes, and honours the threshold option', async () => {
    const user = userEvent.setup();
    const { unmount } = render(<SummaryPanel {...props()} />);
    await user.click(count('testingLong'));
    expect(screen.getByTestId(testIds.row('eve'))).toBeTruthy();
    unmount();
    render(<SummaryPanel {...props(fleet(), { longTestMinutes: 30 })} />);
    expect(count('testingLong').textContent).toBe('0');
  });

  it('searches, sorts and pages the list', async () => {
    const user = userEvent.setup();
    const { unmount } = render(<SummaryPanel {...props(fleet(), { pageSize: 10 })} />);
    await user.click(count('total'));
    const names = () => screen.getAllByRole('row').slice(1).map((r) => r.querySelector('td')?.textContent);
    expect(names()).toEqual(['ann', 'bob', 'cat', 'dan', 'eve']);
    await user.click(screen.getByRole('button', { name: 'Name ▲' }));
    expect(names()).toEqual(['eve', 'dan', 'cat', 'bob', 'ann']);
    await user.click(screen.getByRole('button', { name: 'Last success' }));
    expect(names()[4]).toBe('ann');
    await user.type(screen.getByTestId(testIds.search), 'trusted');
    expect(names().sort()).toEqual(['dan', 'eve']);

    unmount();
    const many = [table('info', Array.from({ length: 25 }, (_, i) => ({ mailbox: `m${String(i).padStart(2, '0')}`, Value: 1 }))), table('health', [])];
    render(<SummaryPanel {...props(many, { pageSize: 10 })} />);
    await user.click(count('total'));
    expect(screen.getByText('Page 1 of 3')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Next' }));
    expect(screen.getByText('Page 2 of 3')).toBeTruthy();
  });

  it('shows the records behind the view, and is keyboard operable', async () => {
    const user = userEvent.setup();
    render(<SummaryPanel {...props()} />);
    await user.tab();
    await user.keyboard('{Enter}');
    expect(screen.getByTestId(testIds.records).textContent).toContain('credentials_rejected');
    expect(screen.getAllByRole('row')).toHaveLength(1 + 6);
    await user.click(screen.getByTestId(testIds.recordsToggle));
    // Tab to the second number (healthy) and open it with the keyboard.
    await user.tab();
    await user.tab();
    await user.keyboard('{Enter}');
    expect(screen.getByRole('heading').textContent).toBe('Healthy and running (1)');
  });

  it('lists the item failures of the mailboxes in view in its records view', async () => {
    const user = userEvent.setup();
    const items = table('items', [
      { mailbox: 'bob', direction: 'incoming', code: 'item_too_large', Value: 3 },
      { mailbox: 'cat', direction: 'incoming', code: 'no_correlation_match', Value: 7 },
    ]);
    render(<SummaryPanel {...props([...fleet(), items])} />);
    await user.click(screen.getByTestId(testIds.recordsToggle));
    const all = within(screen.getByTestId(testIds.itemFailures)).getAllByRole('row').map((r) => r.textContent);
    expect(all).toEqual(['mailboxdirectioncodecount', 'catincomingno_correlation_match7', 'bobincomingitem_too_large3']);
    // Drilled down to the failing mailboxes, only bob's remain.
    await user.click(screen.getByTestId(testIds.recordsToggle));
    await user.click(count('failing'));
    await user.click(screen.getByTestId(testIds.recordsToggle));
    expect(within(screen.getByTestId(testIds.itemFailures)).getAllByRole('row').map((r) => r.textContent)).toEqual(['mailboxdirectioncodecount', 'bobincomingitem_too_large3']);
  });

  it('renders the data error view with the expected queries when the data is wrong', () => {
    render(<SummaryPanel {...props([table('health', [])])} />);
    expect(document.body.textContent).toContain('missing info (mailsync_mailbox_info)');
    expect(document.body.textContent).toContain('refIds');
  });
});
