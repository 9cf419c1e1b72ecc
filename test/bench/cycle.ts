/**
 * bench:cycle: N Dovecot users whose mail is already synced; one full no-change cycle through the
 * scheduler (the service's path: STATUS on kept sessions), and in the same run a baseline of plain
 * imapflow connect + login + EXAMINE + logout over the same users at the same concurrency.
 * BENCH_MAILBOXES sets N (default 2000); BENCH_CONCURRENCY the concurrency (default 16, the
 * default sync.maxConcurrentCycles).
 */
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { systemClock } from '../../exporter/src/clock.js';
import type { Config } from '../../exporter/src/config/index.js';
import { createLogger } from '../../exporter/src/log.js';
import { Scheduler, systemTimers } from '../../exporter/src/scheduler/scheduler.js';
import type { DirectionDeps } from '../../exporter/src/directions/contract.js';
import { runCycle, type CycleOutcome } from '../../exporter/src/directions/run.js';
import { createIncoming, type IncomingRunner } from '../../exporter/src/incoming/index.js';
import { openStore } from '../../exporter/src/store/index.js';
import { writeLabConfig } from '../harness/config.js';
import { Dovecot } from '../harness/dovecot.js';
import { makeMessage } from '../harness/mail.js';
import { fmt, peakRssMb, pool, progress, sizeFromEnv, timed } from './common.js';

const N = sizeFromEnv('BENCH_MAILBOXES', 2_000);
const CONCURRENCY = sizeFromEnv('BENCH_CONCURRENCY', 16);

/** One pass over every mailbox through the real scheduler; resolves when each has run once. */
async function fleetCycle(config: Config, incoming: IncomingRunner, deps: DirectionDeps): Promise<CycleOutcome[]> {
  const profiles = new Map(config.profiles.map((p) => [p.id, p]));
  const mailboxes = new Map(config.mailboxes.map((m) => [m.id, m]));
  const outcomes: CycleOutcome[] = [];
  let scheduler: Scheduler | undefined;
  await new Promise<void>((resolve) => {
    scheduler = new Scheduler({
      clock: systemClock, timers: systemTimers, random: Math.random, jitterRatio: 0,
      maxConcurrent: CONCURRENCY, groupLimit: (p) => profiles.get(p)!.maxConnections,
      run: async (id, signal) => {
        const m = mailboxes.get(id)!;
        outcomes.push(await runCycle(incoming, m, profiles.get(m.profile)!, config, deps, { retry: false, signal }));
        if (outcomes.length === mailboxes.size) resolve();
      },
    });
    // Interval far beyond the run: each mailbox runs exactly once.
    scheduler.setJobs(config.mailboxes.map((m) => ({ id: m.id, group: m.profile, intervalMs: 3_600_000 })));
    scheduler.start();
  });
  await scheduler!.stop();
  return outcomes;
}

async function main(): Promise<void> {
  const dovecot = await Dovecot.start({
    // One imap process per kept session: raise Dovecot's process and client limits above N.
    extraConfig: `default_process_limit = ${N + 500}\ndefault_client_limit = ${4 * N + 1000}\n` +
      `service anvil {\n  client_limit = ${4 * N + 1000}\n}\n` +
      // Dovecot's built-in imap service sets process_limit = 1024 itself, over the default above.
      `service imap {\n  process_limit = ${N + 500}\n}\n`,
  });
  try {
    progress(`creating ${N} users with 3 messages each`);
    const names = Array.from({ length: N }, (_, i) => `u${i}`);
    for (const name of names) {
      dovecot.addUser(name);
      dovecot.seedMaildir(name, [makeMessage(1), makeMessage(2), makeMessage(3)]);
    }
    const lab = writeLabConfig(dovecot, {
      mailboxes: names.map((name) => ({ id: name, user: name, profile: 'plain' })),
      profiles: [{
        id: 'plain', incoming: { host: '127.0.0.1', port: dovecot.imapPort, security: 'none' }, auth: { mode: 'mailbox' },
        // Enough connections to keep one session per mailbox (see docs/performance.md).
        maxConnections: N, minPollIntervalSeconds: 1,
      }],
      organization: { allowNonTlsServers: true, allowCredentialsOverInsecureChannel: true },
      sync: { maxConcurrentCycles: CONCURRENCY },
    });
    const store = await openStore({ path: path.join(lab.dir, 'cycle.db') });
    const deps = { store, clock: systemClock, logger: createLogger('silent'), autodiscover: () => undefined };
    const incoming = createIncoming(deps, (p) => lab.config.profiles.find((x) => x.id === p)!.maxConnections);

    progress('initial sync of every mailbox (not timed)');
    const initial = await timed(() => fleetCycle(lab.config, incoming, deps));
    const failed = initial.value.filter((o) => o.result !== 'success');
    if (failed.length > 0) throw new Error(`${failed.length} initial cycles failed, e.g. ${JSON.stringify(failed[0])}`);
    progress(`initial sync: ${fmt(initial.seconds, 1)} s; ${incoming.sessions.idleCount} sessions kept`);

    const cycle = await timed(() => fleetCycle(lab.config, incoming, deps));
    const changed = cycle.value.filter((o) => o.result !== 'success' || o.itemsProcessed !== 0);
    if (changed.length > 0) throw new Error(`${changed.length} no-change cycles did work or failed, e.g. ${JSON.stringify(changed[0])}`);
    progress(`no-change cycle: ${N} mailboxes in ${fmt(cycle.seconds, 2)} s`);
    await incoming.close();
    await store.close();

    const baseline = await timed(() => pool(names, CONCURRENCY, async (name) => {
      const client = new ImapFlow({
        host: '127.0.0.1', port: dovecot.imapPort, secure: false, doSTARTTLS: false,
        auth: { user: name, pass: `pw-${name}` }, logger: false, disableAutoIdle: true,
      });
      await client.connect();
      await client.mailboxOpen('INBOX', { readOnly: true });
      await client.logout();
    }));
    progress(`baseline fresh logins: ${N} in ${fmt(baseline.seconds, 2)} s`);

    const checks = N / cycle.seconds;
    const raw = N / baseline.seconds;
    console.log(
      `RESULT mailboxes=${N} cycle_s=${fmt(cycle.seconds, 2)} checks_per_s=${fmt(checks)} raw_checks_per_s=${fmt(raw)} ` +
      `ratio=${fmt(checks / raw, 2)} peak_rss_mb=${peakRssMb()}`,
    );
  } finally {
    await dovecot.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
