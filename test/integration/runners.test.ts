import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tunedDovecotConfig } from '../bench/fleet-lab.js';
import { startCli } from '../harness/cli.js';
import { labProfile, writeLabConfig } from '../harness/config.js';
import { Dovecot } from '../harness/dovecot.js';
import { makeMessage } from '../harness/mail.js';
import { freePort } from '../harness/ports.js';
import { Postgres } from '../harness/postgres.js';
import { waitFor } from '../harness/wait.js';
import { counterSum, isReady, liveRunners, logLines, overlappingRuns, staleOpenRuns as staleRuns, type RunnerProcess } from '../support/runner-history.js';

/**
 * Issue 16's tests with real runners: three `mailsync run` processes on one PostgreSQL share the
 * mailboxes of one Dovecot by leases; one is killed, one paused past its lease, and the database
 * is taken away. Throughout, the run history must never show two runners in one mailbox
 * direction at once, and the store must hold exactly the server's mail.
 */
const MAILBOXES = Number(process.env.RUNNERS_TEST_MAILBOXES ?? 300);
const LEASE_SECONDS = 3;
const DB = 'runners';

let pg: Postgres;
let dovecot: Dovecot;
const runners = new Map<string, RunnerProcess>();
/** What each mailbox's INBOX holds on the server: SHA-256 (hex) of each message's bytes. */
const onServer = new Map<string, string[]>();
const ids = Array.from({ length: MAILBOXES }, (_, i) => `m${String(i).padStart(3, '0')}`);
let serial = 0;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Seeds `count` new messages into each mailbox's INBOX (written to the Maildir: fast for hundreds of users). */
function seed(mailboxes: string[], count: number): void {
  for (const id of mailboxes) {
    const messages = Array.from({ length: count }, () => makeMessage((serial += 1)));
    dovecot.seedMaildir(`u-${id}`, messages);
    onServer.set(id, [...(onServer.get(id) ?? []), ...messages.map(sha256)]);
  }
}
const expectedTotal = () => [...onServer.values()].reduce((n, l) => n + l.length, 0);

async function sql<R extends Record<string, unknown>>(text: string, values: unknown[] = []): Promise<R[]> {
  return pg.sql<R>(text, values, DB);
}
async function storedTotal(): Promise<number> {
  return Number((await sql<{ n: string }>('SELECT count(*)::text AS n FROM email'))[0]?.n);
}
async function storedIn(mailboxes: string[]): Promise<number> {
  return Number((await sql<{ n: string }>('SELECT count(*)::text AS n FROM email WHERE mailbox_id = ANY($1)', [mailboxes]))[0]?.n);
}
/** The mailboxes whose incoming lease `runner` holds now, by the database's clock. */
async function heldBy(runner: string): Promise<string[]> {
  return (await sql<{ mailbox_id: string }>(`SELECT mailbox_id FROM leases WHERE runner = $1 AND direction = 'incoming'
    AND expires_at > clock_timestamp() ORDER BY mailbox_id`, [runner])).map((r) => r.mailbox_id);
}

async function startRunner(id: string): Promise<void> {
  const listen = `127.0.0.1:${await freePort()}`;
  const lab = writeLabConfig(dovecot, {
    listen,
    mailboxes: ids.map((m) => ({ id: m, user: `u-${m}` })),
    // Few connections per runner and process: the store's pool small, IDLE keeping one session per mailbox.
    profiles: [labProfile(dovecot, 'lab')],
    sync: { jitterRatio: 0, pollIntervalSeconds: 5, batchSize: 10 },
    extra: {
      store: { driver: 'postgresql', postgresql: { url: '${LAB_PG_URL}', poolSize: 4 } },
      runner: { id },
      leases: { seconds: LEASE_SECONDS },
      log: { level: 'info' },
    },
  });
  const run = startCli(['run', '--config', lab.file], lab.env);
  runners.set(id, { run, listen });
}
function runner(id: string) {
  const r = runners.get(id);
  if (!r) throw new Error(`no runner ${id}`);
  return r;
}

async function ready(id: string): Promise<boolean> {
  return isReady(id, runner(id));
}

async function readyStatus(id: string): Promise<number> {
  return (await fetch(`http://${runner(id).listen}/-/ready`)).status;
}

const counter = (id: string, family: string) => counterSum(runner(id), family);
const overlaps = () => overlappingRuns(sql);
const staleOpenRuns = () => staleRuns(sql, liveRunners(runners));

/** The store holds exactly the server's mail: per mailbox the same contents, each once, each stored once in the feed. */
async function expectExactlyTheServers(): Promise<void> {
  const stored = await sql<{ mailbox_id: string; sha: string }>("SELECT mailbox_id, encode(content_sha256, 'hex') AS sha FROM email");
  const got = new Map<string, string[]>();
  for (const r of stored) got.set(r.mailbox_id, [...(got.get(r.mailbox_id) ?? []), r.sha]);
  const differ = ids.filter((id) => JSON.stringify([...(got.get(id) ?? [])].sort()) !== JSON.stringify([...(onServer.get(id) ?? [])].sort()));
  expect(differ).toEqual([]);
  const locations = await sql<{ n: string }>('SELECT count(*)::text AS n FROM email_location');
  expect(Number(locations[0]?.n)).toBe(expectedTotal());
  const published = await sql<{ n: string }>("SELECT count(*)::text AS n FROM change_feed WHERE kind = 'email_stored'");
  expect(Number(published[0]?.n)).toBe(expectedTotal());
}

const disabled = async () => sql<{ mailbox_id: string }>('SELECT mailbox_id FROM mailbox_direction_state WHERE disabled <> 0');
const allSynced = (what: string, timeoutMs = 120_000) =>
  waitFor(storedTotal, { what, until: (n) => n === expectedTotal(), timeoutMs, intervalMs: 250 });

beforeAll(async () => {
  [pg, dovecot] = await Promise.all([Postgres.start(), Dovecot.start({ extraConfig: tunedDovecotConfig(MAILBOXES) })]);
  // The loader in this process (writeLabConfig) resolves the reference too.
  process.env.LAB_PG_URL = await pg.createDatabase(DB);
  for (const id of ids) dovecot.addUser(`u-${id}`);
  seed(ids, 3);
}, 120_000);
afterAll(async () => {
  for (const { run } of runners.values()) {
    run.child.kill('SIGCONT');
    run.child.kill('SIGKILL');
    await run.exited;
  }
  await dovecot?.stop();
  await pg?.destroy();
}, 60_000);

describe(`three mailsync runners on one PostgreSQL, ${MAILBOXES} mailboxes`, () => {
  it('sync every mailbox exactly once between them, never two in one mailbox direction at once', async () => {
    // All three at once: they migrate the empty database together.
    await Promise.all(['r1', 'r2', 'r3'].map(startRunner));
    for (const id of ['r1', 'r2', 'r3']) await waitFor(() => ready(id), { what: `${id} ready`, timeoutMs: 60_000, intervalMs: 200 });
    await allSynced('every mailbox synced by the three runners', 180_000);
    // Every mailbox held (a lease shed to a runner that joined later is free for up to a round).
    await waitFor(async () => (await Promise.all(['r1', 'r2', 'r3'].map(heldBy))).flat().length, { what: 'every mailbox held', until: (n) => n === MAILBOXES });
    // Each did work: the runs of the history are spread over the three.
    const workers = await sql<{ runner: string }>('SELECT DISTINCT runner FROM sync_run ORDER BY runner');
    expect(workers.map((w) => w.runner)).toEqual(['r1', 'r2', 'r3']);
    expect(await overlaps()).toEqual([]);
    expect(await staleOpenRuns()).toEqual([]);
    await expectExactlyTheServers();
  }, 300_000);

  it('resume a killed runner\'s mailboxes on the others within two lease periods, nothing lost or duplicated', async () => {
    const victims = await heldBy('r3');
    expect(victims.length).toBeGreaterThan(0);
    const before = await storedIn(victims);
    seed(victims, 20);
    const want = before + victims.length * 20;
    // Mid-ingest: r3 has begun storing the new mail and has not finished.
    await waitFor(() => storedIn(victims), { what: 'r3 to start storing its new mail', until: (n) => n > before, timeoutMs: 60_000, intervalMs: 20 });
    runner('r3').run.child.kill('SIGKILL');
    // The issue's bound as the wait's limit, counted from the kill: the lease period for r3's
    // leases to expire, then a round of the others (a third of it) and their claims.
    const resumed = waitFor(async () => (await Promise.all(['r1', 'r2'].map(heldBy))).flat().length, {
      what: 'r3\'s mailboxes held by r1 and r2 within two lease periods', until: (n) => n === MAILBOXES, timeoutMs: 2 * LEASE_SECONDS * 1_000,
    });
    await runner('r3').run.exited;
    expect(await storedIn(victims)).toBeLessThan(want);
    await resumed;
    await allSynced('r3\'s mail stored by the others');
    expect(await overlaps()).toEqual([]);
    expect(await staleOpenRuns()).toEqual([]);
    await expectExactlyTheServers();
  }, 240_000);

  it('refuse the late commits of a runner paused past its lease, once another has taken over', async () => {
    const paused = await heldBy('r2');
    expect(paused.length).toBeGreaterThan(0);
    const before = await storedIn(paused);
    seed(paused, 20);
    const want = before + paused.length * 20;
    await waitFor(() => storedIn(paused), { what: 'r2 to start storing its new mail', until: (n) => n > before, timeoutMs: 60_000, intervalMs: 20 });
    const r2 = runner('r2').run;
    r2.child.kill('SIGSTOP');
    expect(await storedIn(paused)).toBeLessThan(want);
    await waitFor(() => heldBy('r1'), { what: 'r1 holding every mailbox', until: (h) => h.length === MAILBOXES, timeoutMs: 60_000 });
    await allSynced('r2\'s mail stored by r1');
    const fenced = r2.waitForLog((e) => typeof e.msg === 'string' && /lease lost|leases expired/.test(e.msg), 60_000);
    r2.child.kill('SIGCONT');
    await fenced;
    // r2 woke in the middle of storing: the commits it attempted before its own timer dropped the
    // leases were refused by the fence, and counted.
    await waitFor(() => counter('r2', 'mailsync_lease_fencing_refusals_total'), { what: 'r2\'s late commits refused by fencing', until: (n) => n > 0 });
    await waitFor(() => heldBy('r2'), { what: 'r2 back with a share', until: (h) => h.length > 0, timeoutMs: 60_000 });
    expect(await overlaps()).toEqual([]);
    expect(await staleOpenRuns()).toEqual([]);
    await expectExactlyTheServers();
  }, 240_000);

  it('report a lost database, keep every mailbox enabled, and sync again once it is back', async () => {
    const ids2 = ['r1', 'r2'];
    const failedBefore = await Promise.all(ids2.map((id) => counter(id, 'mailsync_lease_renewals_failed_total')));
    // Every session ended (a failover): the pools reconnect.
    expect(await pg.terminateConnections(DB)).toBeGreaterThan(0);
    seed(ids.slice(0, 10), 1);
    await allSynced('mail stored after the sessions were ended');

    const logged = ids2.map((id) => runner(id).run.waitForLog((e) => typeof e.msg === 'string' && /renewal failed/.test(e.msg), 60_000));
    // Down past the lease period: every runner drops its leases, and claims them again afterwards.
    const dropped = ids2.map((id) => runner(id).run.waitForLog((e) => typeof e.msg === 'string' && /leases expired without a renewal/.test(e.msg), 60_000));
    await pg.stop();
    await Promise.all([...logged, ...dropped]);
    const failed = await Promise.all(ids2.map((id) => counter(id, 'mailsync_lease_renewals_failed_total')));
    expect(failed.map((n, i) => n > (failedBefore[i] ?? 0))).toEqual([true, true]);
    // Not ready while the store does not answer: both say so on /-/ready.
    for (const id of ids2) await waitFor(() => readyStatus(id), { what: `${id}'s /-/ready answering 503 with the database stopped`, until: (s) => s === 503 });
    await pg.start();

    for (const id of ids2) await waitFor(() => ready(id), { what: `${id} ready again with the database back`, timeoutMs: 30_000 });
    seed(ids, 1);
    await allSynced('new mail in every mailbox stored after the database came back');
    expect(await disabled()).toEqual([]);
    const states = await sql<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM mailbox_direction_state GROUP BY status');
    expect(states.filter((s) => s.status === 'failure')).toEqual([]);
    expect(await overlaps()).toEqual([]);
    expect(await staleOpenRuns()).toEqual([]);
    await expectExactlyTheServers();
    // The store's absence is reported as such, never as a crashed cycle.
    const crashed = [...runners].flatMap(([id, r]) => logLines(r.run).filter((e) => /crashed/.test(String(e.msg))).map((e) => `${id}: ${String(e.msg)}: ${JSON.stringify(e.err).slice(0, 400)}`));
    expect(crashed).toEqual([]);
  }, 240_000);
});
