import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expressions } from '../../dashboards/src/assemble.js';
import { DASHBOARDS } from '../../dashboards/src/dashboards.js';
import { callApi, startCli, type Running } from '../harness/cli.js';
import { labProfile, writeLabConfig } from '../harness/config.js';
import { Dovecot } from '../harness/dovecot.js';
import { makeMessage } from '../harness/mail.js';
import { freePort } from '../harness/ports.js';
import { Prometheus } from '../harness/prometheus.js';
import { SilentServer } from '../harness/responder.js';
import { waitFor } from '../harness/wait.js';

/**
 * Every query of the generated dashboards runs on a real Prometheus scraping the running exporter,
 * with a fleet in every state the dashboards show: it must parse, and return data.
 */
const TOKEN = 'operator-token-for-the-dashboard-test';
let dovecot: Dovecot;
let silent: SilentServer;
let prometheus: Prometheus;
let run: Running;
let certDir: string;

beforeAll(async () => {
  dovecot = await Dovecot.start();
  silent = await SilentServer.start();
  certDir = mkdtempSync(path.join(tmpdir(), 'mailsync-dash-'));
  const ok = dovecot.addUser('d-ok');
  // One message over the size limit: an item failure.
  await dovecot.append(ok, 'INBOX', [makeMessage(1), makeMessage(2, { attachmentBytes: 4_000 })]);
  const bad = dovecot.addUser('d-bad');
  const closed = await freePort();
  process.env.LAB_DASH_TOKEN = TOKEN;
  const lab = writeLabConfig(dovecot, {
    listen: `127.0.0.1:${await freePort()}`,
    mailboxes: [
      { id: 'd-ok', user: ok.name },
      { id: 'd-bad', user: bad.name, password: 'wrong' },
      { id: 'd-retry', user: 'nobody', profile: 'down' },
      { id: 'd-send', user: ok.name, address: 'd-send@lab.example', profile: 'smtp', incoming: false, outgoing: true },
      { id: 'd-test', user: 'stuck', profile: 'stuck' },
    ],
    profiles: [
      labProfile(dovecot, 'down', { incoming: { host: '127.0.0.1', port: closed, security: 'tls' } }),
      { ...labProfile(dovecot, 'smtp'), outgoing: { host: '127.0.0.1', port: closed, security: 'tls' } },
      labProfile(dovecot, 'stuck', { incoming: { host: '127.0.0.1', port: silent.port, security: 'tls' }, timeouts: { connectSeconds: 60, greetingSeconds: 60, socketSeconds: 60 } }),
    ],
    // Retries every second, so that the retry series exist within the test.
    organization: { retry: { intervalSeconds: 1 } },
    sync: { jitterRatio: 0, maxMessageBytes: 4_000, pollIntervalSeconds: 60 },
    extra: { api: { tokens: [{ name: 'dash', role: 'operator', token: '${LAB_DASH_TOKEN}' }] } },
  });
  run = startCli(['run', '--config', lab.file, '--log-level', 'warn'], lab.env);
  const url = await waitForUrl(lab.config.server.listen);
  const post = (route: string, body: object) => callApi(url, TOKEN, 'POST', route, body);
  expect((await post('/mailboxes/d-send/emails', { to: 'x@remote.example', subject: 's', text: 't' })).status).toBe(202);
  expect((await post('/mailboxes/d-test/test-enable', {})).status).toBe(202);
  prometheus = await Prometheus.start({ targets: [new URL(url).host] });
  // The retries began: every state the dashboards show exists (the test waits for the scrapes).
  await prometheus.waitFor('mailsync_mailbox_sync_retries_total{mailbox="d-retry"} > 0', (r) => r.length > 0);
}, 60_000);

afterAll(async () => {
  await prometheus?.stop();
  await run?.stop();
  await silent?.stop();
  await dovecot?.stop();
  rmSync(certDir, { recursive: true, force: true });
});

async function waitForUrl(listen: string): Promise<string> {
  const url = `http://${listen}`;
  const ready = () => fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
  await waitFor(ready, { what: 'mailsync to come up', intervalMs: 100 }).catch((error: Error) => {
    throw new Error(`${error.message}: ${run.stderr()}`);
  });
  return url;
}

/** Grafana's variables as a user with everything selected (and one of the mailboxes) would send them. */
function substitute(expr: string, mailbox: string): string {
  return expr.replaceAll('$profile', '.*').replaceAll('$direction', '.*').replaceAll('$mailbox', mailbox).replaceAll('$__rate_interval', '1m');
}
const MAILBOXES = ['d-ok', 'd-bad', 'd-retry', 'd-send', 'd-test'];

/** The expressions that return no data (one that does not parse throws). */
async function emptyQueries(exprs: string[]): Promise<string[]> {
  const empty: string[] = [];
  for (const expr of exprs) {
    // label_values(metric, label) is Grafana's: the metric must exist.
    const metric = /^label_values\((\w+),/.exec(expr)?.[1];
    // A mailbox panel counts when it shows data for one of the mailboxes (not every mailbox sends mail).
    const candidates = metric ? [metric] : expr.includes('$mailbox') ? MAILBOXES.map((m) => substitute(expr, m)) : [substitute(expr, '')];
    let found = false;
    for (const promql of candidates) if (!found) found = (await prometheus.query(promql)).length > 0;
    if (!found) empty.push(expr);
  }
  return empty;
}

describe('the generated dashboards on a real Prometheus', () => {
  for (const [name, build] of Object.entries(DASHBOARDS)) {
    it(`every query of ${name} parses and returns data`, async () => {
      const dash = build();
      // Rates and increases have data from a series' second scrape on: wait for that, not for a time.
      const empty = await waitFor(() => emptyQueries(expressions(dash)), { what: `data from every query of ${name}`, until: (e) => e.length === 0, intervalMs: 250 });
      expect(empty).toEqual([]);
    });
  }
});
