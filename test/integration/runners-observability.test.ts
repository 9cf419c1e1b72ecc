import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DIRECTIONS } from '@mailsync/contract';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../exporter/src/store/postgres/migrations.js';
import { QUERIES } from '../../grafana-plugin/src/data/queries.js';
import { startRunner, type Runner } from '../bench/fleet-lab.js';
import { Dovecot } from '../harness/dovecot.js';
import { makeMessage } from '../harness/mail.js';
import { Postgres } from '../harness/postgres.js';
import { Prometheus } from '../harness/prometheus.js';
import { waitFor } from '../harness/wait.js';

/**
 * What Prometheus shows of a fleet must not depend on how many runners sync it: the same mailboxes
 * on one runner, then on three sharing one PostgreSQL by leases, each set scraped by a real
 * Prometheus; the fleet counts the panel (grafana-plugin/src/data/queries.ts) and the alert rules
 * (alerts/src/rules.ts) are built on, summed over the job, must come out the same. A mailbox
 * exported by two runners at once (a lease holder and a runner that lost it) would count twice.
 */
const GOOD = 24;
const GHOSTS = 2; // no such Dovecot user: their logins are rejected and they are disabled.
const LEASE_SECONDS = 6;

/** The fleet counts, each as `labels=value` sorted, from one Prometheus. */
const FLEET_QUERIES = {
  // The panel's health buckets and its mailbox list.
  health: 'count by (health) (mailsync_mailbox_health == 1)',
  info: 'count(mailsync_mailbox_info)',
  enabled: 'sum by (direction) (mailsync_mailbox_enabled)',
  disabled: 'count by (code) (mailsync_mailbox_disabled == 1)',
  synced: 'count(mailsync_mailbox_last_success_timestamp_seconds > 0)',
  // The failing alerts' series, and the unleased alert's.
  failures: 'count(mailsync_mailbox_consecutive_failures)',
  unleased: 'max by (direction) (mailsync_mailboxes_unleased)',
  // The fleet dashboard's count of configured mailboxes, as generated.
  configured: dashboardExpr('Mailboxes configured'),
  // Every series the panel reads, counted per query.
  ...Object.fromEntries(Object.entries(QUERIES).map(([ref, q]) => [`panel_${ref}`, `count(${q})`])),
};
type Snapshot = Record<string, string[]>;

/** The first query of a panel of the generated fleet dashboard, by its title. */
function dashboardExpr(title: string): string {
  const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dashboards/generated/mailsync-performance.json');
  const panels = (JSON.parse(readFileSync(file, 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[] }).panels;
  const expr = panels.find((p) => p.title === title)?.targets?.[0]?.expr;
  if (!expr) throw new Error(`no panel "${title}" with a query in ${file}`);
  return expr;
}

async function snapshot(prometheus: Prometheus): Promise<Snapshot> {
  const entries = await Promise.all(Object.entries(FLEET_QUERIES).map(async ([key, expr]) => {
    const samples = await prometheus.query(expr);
    return [key, samples.map((s) => `${JSON.stringify(s.metric)}=${s.value[1]}`).sort()] as const;
  }));
  return Object.fromEntries(entries) as Snapshot;
}

let server: Postgres;
let dovecot: Dovecot;
const names = [...Array.from({ length: GOOD }, (_, i) => `obs${i}`), ...Array.from({ length: GHOSTS }, (_, i) => `ghost${i}`)];
const stoppers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  [server, dovecot] = await Promise.all([Postgres.start(), Dovecot.start()]);
  for (const name of names.slice(0, GOOD)) {
    dovecot.addUser(name);
    dovecot.seedMaildir(name, [makeMessage(1), makeMessage(2)]);
  }
}, 60_000);
afterAll(async () => {
  for (const stop of stoppers.splice(0).reverse()) await stop();
  await dovecot?.stop();
  await server?.destroy();
}, 60_000);

/** `count` runners on a fresh database and a Prometheus scraping them all. */
async function fleet(db: string, count: number): Promise<{ runners: Runner[]; prometheus: Prometheus }> {
  const url = await server.createDatabase(db);
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    await migrate(pool);
  } finally {
    await pool.end();
  }
  const runners = await Promise.all(Array.from({ length: count }, (_, i) => startRunner(dovecot, names, {
    push: 'none', pollIntervalSeconds: 1, label: `obs-${db}-${i}`, store: { driver: 'postgresql', postgresql: { url } },
    runnerId: `${db}-r${i + 1}`, leaseSeconds: LEASE_SECONDS,
  })));
  stoppers.push(() => Promise.all(runners.map((r) => r.remove())).then(() => undefined));
  const prometheus = await Prometheus.start({ targets: runners.map((r) => new URL(r.url).host) });
  stoppers.push(() => prometheus.stop());
  return { runners, prometheus };
}

const settled = (s: Snapshot) => s.info?.[0] === `{}=${names.length}` && s.synced?.[0] === `{}=${GOOD}` && s.disabled?.join() === `{"code":"credentials_rejected"}=${GHOSTS}`;

describe('the fleet as Prometheus sees it, on one runner and on three', () => {
  it('counts every mailbox once, in the same health buckets, however many runners share them', async () => {
    const one = await fleet('one', 1);
    const alone = await waitFor(() => snapshot(one.prometheus), { what: 'one runner\'s fleet synced and scraped', until: settled, timeoutMs: 90_000, intervalMs: 500 });
    expect(alone.unleased).toEqual(DIRECTIONS.map((d) => `{"direction":"${d}"}=0`).sort());
    expect(alone.configured).toEqual([`{}=${names.length}`]);

    const three = await fleet('three', 3);
    // Every runner holding a share, then the same counts as one runner's.
    await waitFor(() => three.prometheus.query('count(mailsync_leases_held > 0)'), {
      what: 'each of the three runners holding leases', until: (r) => r[0]?.value[1] === '3', timeoutMs: 90_000, intervalMs: 500,
    });
    const shared = await waitFor(() => snapshot(three.prometheus), {
      what: 'three runners\' fleet counts equal to one runner\'s', until: (s) => JSON.stringify(s) === JSON.stringify(alone), timeoutMs: 90_000, intervalMs: 500,
    }).catch(async () => snapshot(three.prometheus));
    expect(shared).toEqual(alone);
  }, 240_000);
});
