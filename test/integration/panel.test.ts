import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HEALTH_BUCKETS } from '@mailsync/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PanelHarness } from '../harness/browser.js';

/**
 * The built panel in headless Chromium with the real @grafana/ui and theme, fed with frames made
 * from recorded Prometheus answers (a real exporter scraped by a real Prometheus: see
 * test/panel/record-fixture.ts). Screenshots go to grafana-plugin/tmp/; with UPDATE_SCREENSHOTS=1
 * the summary in each theme also replaces the screenshots of plugin.json (and so of the plugin's
 * README) and of the root README.
 */
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const plugin = path.join(repo, 'grafana-plugin');
const shots = path.join(plugin, 'tmp');
const published = {
  light: [path.join(plugin, 'src/img/screenshot-summary.png'), path.join(repo, 'docs/img/panel-summary.png')],
  dark: [path.join(plugin, 'src/img/screenshot-summary-dark.png'), path.join(repo, 'docs/img/panel-summary-dark.png')],
};
function publish(theme: keyof typeof published, shot: string): void {
  if (process.env.UPDATE_SCREENSHOTS !== '1') return;
  for (const target of published[theme]) copyFileSync(shot, target);
}
let harness: PanelHarness;

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  harness = await PanelHarness.start();
}, 60_000);
afterAll(async () => {
  await harness?.stop();
});

describe('the summary panel in a real browser', () => {
  it('clicks through summary → list → mailbox → records, in both themes', async () => {
    const { page } = harness;
    const { responses } = await harness.renderFixture('light');
    // Expected counts come from the recorded answers themselves, not from the panel's code.
    const buckets: Record<string, string[]> = {};
    for (const r of responses.health!.data.result) (buckets[r.metric.health!] ??= []).push(r.metric.mailbox!);
    const count = (key: string) => page.getByTestId(`mailsync-count-${key}`).textContent();
    expect(await count('total')).toBe(String(responses.info!.data.result.length));
    for (const h of HEALTH_BUCKETS) expect(await count(h), h).toBe(String(buckets[h]?.length ?? 0));
    await page.screenshot({ path: path.join(shots, 'summary-light.png') });
    publish('light', path.join(shots, 'summary-light.png'));

    await page.getByTestId('mailsync-count-failing').click();
    const rows = page.locator('[data-testid^="mailsync-row-"]');
    expect((await rows.allTextContents()).map((t) => t.split('@')[0])).toHaveLength(buckets.failing!.length);
    const first = [...buckets.failing!].sort()[0]!;
    const disabled = responses.disabled!.data.result.find((r) => r.metric.mailbox === first)!.metric.code!;
    expect(await page.getByTestId(`mailsync-row-${first}`).textContent()).toContain(`disabled (${disabled})`);
    await page.screenshot({ path: path.join(shots, 'list-failing.png') });

    await page.getByRole('button', { name: first, exact: true }).click();
    const card = page.getByTestId('mailsync-status-card');
    expect(await card.textContent()).toContain(`disabled: ${disabled}`);
    expect(await card.getByRole('link', { name: disabled }).getAttribute('href')).toMatch(new RegExp(`runbook\\.md#${disabled}$`));
    await page.screenshot({ path: path.join(shots, 'mailbox.png') });

    await page.getByTestId('mailsync-records-toggle').click();
    expect(await page.getByTestId('mailsync-records').textContent()).toContain(first);
    await page.screenshot({ path: path.join(shots, 'records.png') });

    // Keyboard: back to the summary, then open a number with Enter.
    await page.getByTestId('mailsync-records-toggle').click();
    await page.getByTestId('mailsync-back').click();
    await page.getByTestId('mailsync-back').click();
    await page.getByTestId('mailsync-count-intermittent').focus();
    await page.keyboard.press('Enter');
    expect(await page.locator('[data-testid^="mailsync-row-"]').count()).toBe(buckets.intermittent!.length);

    await harness.renderFixture('dark');
    expect(await count('failing')).toBe(String(buckets.failing!.length));
    await page.screenshot({ path: path.join(shots, 'summary-dark.png') });
    publish('dark', path.join(shots, 'summary-dark.png'));
  });
});
