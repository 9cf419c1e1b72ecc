/**
 * bench:latency: how long new mail takes to reach the store. BENCH_MAILBOXES mailboxes (default
 * 1,000) on a real `mailsync run` with `incoming.push: idle` and an hour between polls; after every
 * first cycle, BENCH_MESSAGES messages (default 2,000) are delivered to random mailboxes at random
 * moments over BENCH_SECONDS (default 60), over LMTP as an MTA delivers to Dovecot (kept
 * connections: the deliveries add almost nothing to the load the runner is measured under; a
 * `doveadm save` process per message, as before, was a large share of the machine's CPU at 33
 * messages a second). The lag of each is from its delivery (Dovecot's 250 to the LMTP DATA) to its
 * commit (the stored email's first_seen_at). In the same run, the same
 * deliveries to the same fleet with `push: none` and a BENCH_POLL_SECONDS poll (default 60): the
 * baseline, with the connections held and the cycle time of both modes.
 */
import path from 'node:path';
import { openStore } from '../../exporter/src/store/index.js';
import { makeMessage } from '../harness/mail.js';
import { waitFor } from '../harness/wait.js';
import type { Dovecot } from '../harness/dovecot.js';
import { fmt, progress, seededRandom, sizeFromEnv } from './common.js';
import { lmtpDelivery, metricSum, percentile, procStatus, startFleetDovecot, startRunner } from './fleet-lab.js';

const N = sizeFromEnv('BENCH_MAILBOXES', 1_000);
const MESSAGES = sizeFromEnv('BENCH_MESSAGES', 2_000);
const SECONDS = sizeFromEnv('BENCH_SECONDS', 60);
const POLL_SECONDS = sizeFromEnv('BENCH_POLL_SECONDS', 60);

interface Figures { delivered: number; stored: number; lags: number[]; sockets: number; cycleMeanMs: number; noChangeMeanMs: number }

async function phase(dovecot: Dovecot, names: string[], push: 'idle' | 'none', round: number): Promise<Figures> {
  const lmtp = lmtpDelivery(dovecot);
  const runner = await startRunner(dovecot, names, { push, pollIntervalSeconds: push === 'idle' ? 3_600 : POLL_SECONDS, label: `latency-${push}` });
  try {
    const runs = () => metricSum(runner.url, 'mailsync_sync_runs_total', 'result="success"');
    await waitFor(runs, { what: `every mailbox's first cycle (${push})`, until: (n) => n >= names.length, timeoutMs: 600_000, intervalMs: 500 });
    const firstCycles = { sum: await metricSum(runner.url, 'mailsync_sync_duration_seconds_sum'), count: await metricSum(runner.url, 'mailsync_sync_duration_seconds_count') };
    const before = await metricSum(runner.url, 'mailsync_emails_stored_total');
    const sockets = procStatus(runner.child.pid as number).sockets;
    progress(`${push}: ${names.length} first cycles done, ${sockets} sockets held by the runner; delivering ${MESSAGES} messages over ${SECONDS} s`);

    // Delivery moments: uniform over the window, to random mailboxes (seeded: both modes get the same).
    const random = seededRandom(20 + round);
    const plan = Array.from({ length: MESSAGES }, (_, i) => ({ at: random() * SECONDS * 1_000, user: names[Math.floor(random() * names.length)] as string, i }))
      .sort((a, b) => a.at - b.at);
    const deliveredAt = new Map<string, number>();
    const deliveries: Promise<void>[] = [];
    const start = Date.now();
    for (const d of plan) {
      const wait = start + d.at - Date.now();
      // The schedule itself is what is measured here: waiting for the next delivery moment.
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const id = `latency-${push}-${d.i}`;
      deliveries.push(lmtp.deliver(d.user, makeMessage(100_000 + d.i, { subject: id })).then((at) => void deliveredAt.set(id, at)));
    }
    await Promise.all(deliveries);
    const stored = () => metricSum(runner.url, 'mailsync_emails_stored_total').then((n) => n - before);
    // Polling needs up to one interval (and the pass over the fleet) after the last delivery.
    const settled = await waitFor(stored, { what: `${MESSAGES} deliveries stored (${push})`, until: (n) => n >= MESSAGES, timeoutMs: (POLL_SECONDS * 3 + 120) * 1_000, intervalMs: 500 }).catch(() => stored());
    const all = { sum: await metricSum(runner.url, 'mailsync_sync_duration_seconds_sum'), count: await metricSum(runner.url, 'mailsync_sync_duration_seconds_count') };
    const laterCycles = all.count - firstCycles.count;
    await runner.stop();

    const store = await openStore({ path: path.join(runner.dir, 'bench.db') });
    const lags: number[] = [];
    try {
      for (const name of names) {
        for (const e of await store.mail.listEmails(name, 10_000)) {
          const at = e.subject ? deliveredAt.get(e.subject) : undefined;
          if (at !== undefined) lags.push(Math.max(0, e.firstSeenAt - at));
        }
      }
    } finally {
      await store.close();
    }
    lags.sort((a, b) => a - b);
    return {
      delivered: MESSAGES, stored: settled, lags, sockets,
      cycleMeanMs: (1_000 * firstCycles.sum) / Math.max(1, firstCycles.count),
      noChangeMeanMs: laterCycles > 0 ? (1_000 * (all.sum - firstCycles.sum)) / laterCycles : Number.NaN,
    };
  } finally {
    lmtp.close();
    await runner.remove();
  }
}

function line(f: Figures): string {
  return `delivered=${f.delivered} stored=${f.lags.length} lag_p50_ms=${fmt(percentile(f.lags, 0.5))} ` +
    `lag_p95_ms=${fmt(percentile(f.lags, 0.95))} lag_max_ms=${fmt(f.lags[f.lags.length - 1] ?? Number.NaN)}`;
}

async function main(): Promise<void> {
  const { dovecot, names } = await startFleetDovecot(N, 2, { lmtp: true });
  try {
    // The baseline first: the IDLE run then starts from a fleet already read once, as the poll's did.
    const poll = await phase(dovecot, names, 'none', 1);
    progress(`poll every ${POLL_SECONDS} s: ${line(poll)} sockets=${poll.sockets} first_cycle_mean_ms=${fmt(poll.cycleMeanMs, 1)} later_cycle_mean_ms=${fmt(poll.noChangeMeanMs, 1)}`);
    const idle = await phase(dovecot, names, 'idle', 2);
    progress(`IDLE: ${line(idle)} sockets=${idle.sockets} first_cycle_mean_ms=${fmt(idle.cycleMeanMs, 1)} later_cycle_mean_ms=${fmt(idle.noChangeMeanMs, 1)}`);
    console.log(`RESULT mailboxes=${N} ${line(idle)} poll_lag_p50_ms=${fmt(percentile(poll.lags, 0.5))} poll_lag_p95_ms=${fmt(percentile(poll.lags, 0.95))} ` +
      `idle_sockets=${idle.sockets} poll_sockets=${poll.sockets}`);
  } finally {
    await dovecot.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
