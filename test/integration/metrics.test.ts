import { readFileSync, writeFileSync } from 'node:fs';
import { HEALTH_BUCKETS } from '@mailsync/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { contractProblems } from '../../exporter/src/metrics/contract.js';
import { callApi, startCli, type Running } from '../harness/cli.js';
import { labProfile, writeLabConfig } from '../harness/config.js';
import { Dovecot } from '../harness/dovecot.js';
import { makeMessage } from '../harness/mail.js';
import { freePort } from '../harness/ports.js';
import { Prometheus, promtoolCheckMetrics } from '../harness/prometheus.js';
import { SilentServer } from '../harness/responder.js';

/**
 * The running exporter (real process) syncing real Dovecot mailboxes, some broken on purpose,
 * scraped by a real Prometheus; promtool checks the exposition.
 */
const TOKEN = 'operator-token-for-the-metrics-test';
let dovecot: Dovecot;
let silent: SilentServer;
let prometheus: Prometheus;
let run: Running;
let url: string;
let lab: ReturnType<typeof writeLabConfig>;

beforeAll(async () => {
  dovecot = await Dovecot.start();
  silent = await SilentServer.start();
  const good = dovecot.addUser('m-healthy');
  await dovecot.append(good, 'INBOX', [makeMessage(1), makeMessage(2)]);
  const bad = dovecot.addUser('m-failing');
  const idle = dovecot.addUser('m-inactive');
  const port = await freePort();
  process.env.LAB_METRICS_TOKEN = TOKEN;
  lab = writeLabConfig(dovecot, {
    listen: `127.0.0.1:${await freePort()}`,
    mailboxes: [
      { id: 'm-healthy', user: good.name },
      { id: 'm-failing', user: bad.name, password: 'wrong' },
      { id: 'm-intermittent', user: 'nobody', profile: 'down' },
      { id: 'm-inactive', user: idle.name, incoming: false },
      { id: 'm-testing', user: 'stuck', profile: 'stuck' },
    ],
    profiles: [
      labProfile(dovecot, 'down', { incoming: { host: '127.0.0.1', port, security: 'tls' } }),
      // Accepts the connection and never greets: Test & Enable stays running for 60 s.
      labProfile(dovecot, 'stuck', { incoming: { host: '127.0.0.1', port: silent.port, security: 'tls' }, timeouts: { connectSeconds: 60, greetingSeconds: 60, socketSeconds: 60 } }),
    ],
    sync: { jitterRatio: 0 },
    extra: { api: { tokens: [{ name: 'oncall', role: 'operator', token: '${LAB_METRICS_TOKEN}' }] } },
  });
  run = startCli(['run', '--config', lab.file, '--log-level', 'info'], lab.env);
  url = String((await run.waitForLog((e) => e.msg === 'mailsync started')).url);
  const res = await callApi(url, TOKEN, 'POST', '/mailboxes/m-testing/test-enable', {});
  expect(res.status).toBe(202);
  prometheus = await Prometheus.start({ targets: [new URL(url).host] });
}, 60_000);

afterAll(async () => {
  await prometheus?.stop();
  await run?.stop();
  await silent?.stop();
  await dovecot?.stop();
});

const byMailbox = (r: { metric: Record<string, string> }[], label: string) =>
  Object.fromEntries(r.map((s) => [s.metric.mailbox, s.metric[label]]));

describe('the exporter scraped by a real Prometheus', () => {
  it('puts each mailbox in its health bucket, queryable with PromQL', async () => {
    const expected = { 'm-healthy': 'healthy', 'm-failing': 'failing', 'm-intermittent': 'intermittent', 'm-inactive': 'inactive', 'm-testing': 'testing' };
    const result = await prometheus.waitFor('mailsync_mailbox_health == 1', (r) => sameBuckets(r, expected));
    expect(byMailbox(result, 'health')).toEqual(expected);
    for (const [health, mailbox] of Object.entries({ failing: 'm-failing', testing: 'm-testing' })) {
      const r = await prometheus.query(`mailsync_mailbox_health{health="${health}"} * on(mailbox) group_left(address) mailsync_mailbox_info`);
      expect(r.map((s) => [s.metric.mailbox, s.metric.address])).toEqual([[mailbox, `${mailbox.replace('m-testing', 'stuck')}@lab.example`]]);
    }
    const disabled = await prometheus.query('mailsync_mailbox_disabled');
    expect(disabled.map((s) => [s.metric.mailbox, s.metric.code])).toEqual([['m-failing', 'credentials_rejected']]);
    const perProfile = await prometheus.query('sum by (health) (mailsync_profile_mailboxes)');
    expect(Object.fromEntries(perProfile.map((s) => [s.metric.health, s.value[1]]))).toEqual({ healthy: '1', failing: '1', intermittent: '1', inactive: '1', testing: '1' });
    const synced = await prometheus.query('mailsync_mailbox_items_processed_total{mailbox="m-healthy"}');
    expect(synced[0]?.value[1]).toBe('2');
    // B: the one runner on SQLite holds every lease (m-inactive's lead lease too) and none is left unleased.
    const held = await prometheus.query('mailsync_leases_held');
    expect(Object.fromEntries(held.map((s) => [s.metric.direction, s.value[1]]))).toEqual({ incoming: '5', outgoing: '0', act: '0' });
    expect((await prometheus.query('sum(mailsync_mailboxes_unleased)'))[0]?.value[1]).toBe('0');

    // The status page of the same run shows the same summary, each number a link to its mailboxes.
    const page = await (await fetch(`${url}/`)).text();
    for (const h of HEALTH_BUCKETS) {
      expect(page).toContain(`<a class="n ${h}" href="mailboxes?health=${h}">1</a>`);
    }
    const failingList = await (await fetch(`${url}/mailboxes?health=failing`)).text();
    expect(failingList).toContain('<a href="mailboxes/m-failing">m-failing</a>');
    expect(await (await fetch(`${url}/mailboxes/m-failing`)).text()).toContain('disabled: <code>credentials_rejected</code>');
  });

  it('serves an exposition promtool finds clean', async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toContain('mailsync_mailbox_health{mailbox="m-failing",health="failing"} 1');
    const check = promtoolCheckMetrics(text);
    expect(check.output).toBe('');
    expect(check.ok).toBe(true);
    // Each family once, in the table of families, each series with exactly the table's labels.
    expect(contractProblems(text)).toEqual([]);
  });

  it('serves OpenMetrics to a scraper that asks for it, and Prometheus (which asks for it first) parses it', async () => {
    // The Accept header of Prometheus' scrapes: OpenMetrics first, the text format as a fallback.
    const accept = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
    const res = await fetch(`${url}/metrics`, { headers: { accept } });
    expect(res.headers.get('content-type')).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    const om = await res.text();
    expect(om.endsWith('\n# EOF\n')).toBe(true);
    expect(om).toContain('\n# TYPE mailsync_mailbox_sync_runs counter\n');
    expect(om).toContain('mailsync_mailbox_health{mailbox="m-failing",health="failing"} 1\n');
    expect(contractProblems(om)).toEqual([]);
    // Prometheus' OpenMetrics parser is strict (a missing # EOF or a counter sample without
    // _total fails the scrape): the target is up and its last scrape had no error.
    const targets = await (await fetch(`${prometheus.url}/api/v1/targets`)).json() as { data: { activeTargets: { health: string; lastError: string }[] } };
    expect(targets.data.activeTargets.map((t) => [t.health, t.lastError])).toEqual([['up', '']]);
    // promtool reads the text format only; the text-format scrape of the same process is clean.
    expect(promtoolCheckMetrics(await (await fetch(`${url}/metrics`)).text())).toEqual({ ok: true, output: '' });
  });

  it('reloads the config on SIGHUP, and rejects a bad one on POST /-/reload without applying it', async () => {
    const doc = parse(readFileSync(lab.file, 'utf8')) as { mailboxes: Record<string, unknown>[]; organization: { retry?: Record<string, unknown> } };
    const original = readFileSync(lab.file, 'utf8');
    doc.mailboxes.push({ id: 'm-new', address: 'new@lab.example', profile: 'lab', incoming: false, credentials: { username: 'new', password: 'inline-but-fine' } });
    doc.organization.retry = { ...doc.organization.retry, maxTransientRetries: 3 };
    writeFileSync(lab.file, stringify(doc));
    run.child.kill('SIGHUP');
    await prometheus.waitFor('mailsync_mailboxes_configured == 6', (r) => r.length === 1);
    // The retry budget the alert texts quote follows the running config.
    await prometheus.waitFor('mailsync_config_max_transient_retries == 3', (r) => r.length === 1);
    await prometheus.waitFor('mailsync_mailbox_info{mailbox="m-new"}', (r) => r.length === 1);
    expect((await prometheus.query('mailsync_config_last_reload_successful'))[0]?.value[1]).toBe('1');

    writeFileSync(lab.file, `${original}\nnot: [valid`);
    const res = await fetch(`${url}/-/reload`, { method: 'POST' });
    expect(res.status).toBe(500);
    expect(await res.text()).toMatch(/^config not reloaded: YAML \(line \d+, column \d+\): /);
    await prometheus.waitFor('mailsync_config_last_reload_successful == 0', (r) => r.length === 1);
    // The running config is still the last good one.
    expect((await prometheus.query('mailsync_mailboxes_configured'))[0]?.value[1]).toBe('6');
    expect((await prometheus.query('mailsync_config_max_transient_retries'))[0]?.value[1]).toBe('3');
  });
});

describe('graceful stop', () => {
  it('does not wait for a server that never greets: the stuck cycle and Test & Enable are aborted', async () => {
    // The stuck profile's timeouts are 60 s, longer than the test's 30 s: the test ends in time only
    // if the stop aborts the waits instead of sitting them out.
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(run.stdout()).toContain('incoming cycle aborted: the runner is stopping or lost the lease');
    expect(run.stdout()).toContain('"msg":"mailsync stopped"');
  });
});

function sameBuckets(r: { metric: Record<string, string> }[], expected: Record<string, string>): boolean {
  const got = byMailbox(r, 'health');
  return Object.keys(expected).every((k) => got[k] === expected[k]) && Object.keys(got).length === Object.keys(expected).length;
}
