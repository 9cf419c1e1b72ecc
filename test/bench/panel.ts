/**
 * bench:panel — the built panel in headless Chromium with BENCH_MAILBOXES (default 10,000)
 * synthetic mailboxes: time to the first painted render, and to open the largest list (healthy).
 * Each figure is the median of BENCH_ROUNDS runs; the cold first render is printed apart.
 */
import { PanelHarness } from '../harness/browser.js';
import { fmt, progress, sizeFromEnv } from './common.js';

const MAILBOXES = sizeFromEnv('BENCH_MAILBOXES', 10_000);
const ROUNDS = sizeFromEnv('BENCH_ROUNDS', 5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const harness = await PanelHarness.start();
try {
  const first: number[] = [];
  const open: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    first.push(await harness.page.evaluate(`mailsyncHarness.benchFirstRender(${MAILBOXES})`) as number);
    open.push(await harness.page.evaluate(`(async () => {
      const t0 = performance.now();
      document.querySelector('[data-testid="mailsync-count-healthy"]').click();
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      if (!document.querySelector('[data-testid="mailsync-list"]')) throw new Error('the list did not open');
      return performance.now() - t0;
    })()`) as number);
  }
  progress(`first render: ${first.map((x) => fmt(x)).join(', ')} ms; open the healthy list: ${open.map((x) => fmt(x)).join(', ')} ms`);
  // The first round runs cold (no JIT yet): what a user sees on opening a dashboard. Kept apart.
  console.log(`RESULT mailboxes=${MAILBOXES} first_render_ms=${fmt(median(first))} open_list_ms=${fmt(median(open))} cold_first_render_ms=${fmt(first[0] as number)}`);
} finally {
  await harness.stop();
}
