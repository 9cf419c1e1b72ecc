/**
 * The local demo lab (`npm run demo`), without Docker: a Dovecot with demo mailboxes (healthy, and
 * one broken on purpose per documented cause), a mail generator, the mailsync runner on its
 * embedded SQLite store, and Prometheus + Alertmanager with the project's rules and routing.
 * Prints `READY status=... metrics=... prometheus=... alertmanager=...`; Ctrl-C stops everything.
 * With `--check`: waits until alerts fire for the broken mailboxes, prints what fired, and stops
 * (CI runs this so the main command keeps working). `--screenshot FILE` saves the status page.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Alertmanager, WebhookSink } from '../test/harness/alertmanager.js';
import { callApi, startCli, type Running } from '../test/harness/cli.js';
import { labProfile, writeLabConfig, type LabMailbox } from '../test/harness/config.js';
import { Dnsmasq } from '../test/harness/dnsmasq.js';
import { Dovecot } from '../test/harness/dovecot.js';
import { makeMessage } from '../test/harness/mail.js';
import { freePort } from '../test/harness/ports.js';
import { Prometheus } from '../test/harness/prometheus.js';
import { Radicale, vcard, vevent, vtodo } from '../test/harness/radicale.js';
import { SilentServer } from '../test/harness/responder.js';
import { waitFor } from '../test/harness/wait.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const TOKEN = 'demo-operator-token-0123456789';
const OWNER_ENTRY = '/private/vendor/vendor.mailsync/owner';
const say = (line: string) => process.stderr.write(`[demo] ${line}\n`);

const stops: (() => Promise<void>)[] = [];
let stopping = false;
async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    say('stopping everything the demo started');
    for (const stop of stops.reverse()) await stop().catch((e: Error) => say(`while stopping: ${e.message}`));
  }
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0)).on('SIGTERM', () => void stopAll(0));

try {
  const dovecot = await Dovecot.start();
  stops.push(() => dovecot.stop());
  const healthy = ['sales', 'support', 'billing', 'hr', 'legal', 'ops'];
  for (const [i, name] of healthy.entries()) dovecot.seedMaildir(name, Array.from({ length: 20 + i * 7 }, (_, n) => makeMessage(n)));
  for (const name of healthy) dovecot.addUser(name, 'demo-password');
  dovecot.addUser('cfo', 'the-real-password');
  dovecot.addUser('ceo@lab.example', 'demo-password');
  dovecot.addUser('partner-desk', 'demo-password');
  dovecot.addUser('outbox', 'demo-password');
  // Another deployment's ownership mark: configured_in_another_org.
  dovecot.doveadm(['mailbox', 'metadata', 'set', '-u', 'partner-desk', '-s', '', OWNER_ENTRY, 'other-company.example']);

  // Appointments, contacts and tasks: a Radicale (TLS with the lab's certificate) for four mailboxes.
  const davUsers = ['calendar-desk', 'act-retired', 'act-organizer', 'act-partner'].map((name) => ({ name, password: 'demo-password' }));
  const radicale = await Radicale.start(davUsers, { tls: true });
  stops.push(() => radicale.stop());
  for (const u of davUsers) {
    await radicale.makeCalendar(u, 'calendar');
    await radicale.makeCalendar(u, 'tasks', ['VTODO']);
    await radicale.makeAddressBook(u, 'contacts');
    for (let i = 0; i < 5; i++) await radicale.put(u, `/${u.name}/calendar/meeting-${i}.ics`, vevent(`meeting-${i}`, `Team meeting ${i}`, { attendees: ['team@lab.example'] }));
    await radicale.put(u, `/${u.name}/tasks/report.ics`, vtodo('report', 'Quarterly report'));
    await radicale.put(u, `/${u.name}/contacts/carol.vcf`, vcard('carol', 'Carol Customer'));
  }
  // Another deployment's mark on the calendar home: configured_in_another_org for ACT only.
  await radicale.setProperty(davUsers[3]!, '/act-partner/', 'urn:mailsync:ownership', 'mailsync-owner', 'other-company.example');

  const dns = await Dnsmasq.start([]);
  stops.push(() => dns.stop());
  const silent = await SilentServer.start();
  stops.push(() => silent.stop());
  const closed = await freePort();
  process.env.DEMO_TOKEN = TOKEN;
  // The webhook sink (demo/webhook-sink.mjs) prints every change mailsync delivers to it.
  const sinkPort = await freePort();
  process.env.DEMO_WEBHOOK_SECRET = 'demo-webhook-secret-0123456789abcdef';
  process.env.DEMO_MASTER_PW = dovecot.master.password;
  // Approved in the config, as a deployment would be on day one; the new hire is not, and the CEO's
  // trusted-profile mailbox would need an admin's approval: those two show the approval alerts.
  const approval = { approvedBy: 'Demo Operator', role: 'operator' } as const;
  const mailbox = (id: string, extra: Partial<LabMailbox> = {}): LabMailbox => ({ id, user: id, password: 'demo-password', approval, ...extra });
  const lab = writeLabConfig(dovecot, {
    listen: process.env.DEMO_LISTEN ?? `127.0.0.1:${await freePort()}`,
    mailboxes: [
      ...healthy.map((n) => mailbox(n)),
      mailbox('cfo'), // wrong password → credentials_rejected
      mailbox('board', { user: 'sales', address: 'board@lab.example', profile: 'untrusted-tls' }), // → secure_connection_failed
      { id: 'ceo', user: 'ceo@lab.example', profile: 'trusted' }, // → admin_approval_required
      mailbox('partners', { user: 'sales', address: 'partners@nowhere.test', profile: 'discovered' }), // → mailbox_location_unknown
      mailbox('legacy', { user: 'sales', address: 'legacy@lab.example', profile: 'legacy' }), // → insecure_channel_refused
      mailbox('partner-desk'), // → configured_in_another_org
      mailbox('flaky', { user: 'sales', address: 'flaky@lab.example', profile: 'flaky' }), // → connect_failed, retried
      mailbox('outbox', { outgoing: true, profile: 'outbox' }), // → Pending Send stays
      mailbox('newhire', { user: 'sales', address: 'newhire@lab.example', approval: undefined }), // not approved → email_address_not_approved
      mailbox('intern', { user: 'sales', address: 'intern@lab.example', incoming: false }), // nothing enabled yet → inactive
      mailbox('newdesk', { user: 'sales', address: 'newdesk@lab.example', profile: 'slow' }), // Test & Enable running → testing
      mailbox('calendar-desk', { incoming: false, act: true, profile: 'dav' }), // appointments, contacts and tasks: healthy
      mailbox('act-retired', { incoming: false, act: true, profile: 'dav-retired' }), // its home is gone (404) → ACT disabled, mailbox_not_found
      mailbox('act-organizer', { incoming: false, act: true, profile: 'dav' }), // an appointment without organizer (after start) → item alert
      mailbox('act-partner', { incoming: false, act: true, profile: 'dav' }), // another deployment's mark → configured_in_another_org (act)
    ],
    profiles: [
      labProfile(dovecot, 'lab', { owner: 'mail-team@lab.example', minPollIntervalSeconds: 30 }),
      { ...labProfile(dovecot, 'untrusted-tls'), incoming: { host: 'localhost', port: dovecot.imapsPort, security: 'tls' } },
      labProfile(dovecot, 'trusted', { owner: 'it-security@lab.example', auth: { mode: 'impersonation', credentials: { username: dovecot.master.name, password: '${DEMO_MASTER_PW}' } } }),
      { ...labProfile(dovecot, 'discovered'), incoming: { autodiscover: true } },
      { ...labProfile(dovecot, 'legacy'), incoming: { host: '127.0.0.1', port: dovecot.imapPort, security: 'none' } },
      labProfile(dovecot, 'flaky', { incoming: { host: '127.0.0.1', port: closed, security: 'tls' } }),
      { ...labProfile(dovecot, 'outbox'), outgoing: { host: '127.0.0.1', port: closed, security: 'tls' } },
      labProfile(dovecot, 'dav', { act: { url: radicale.tlsUrl, caFile: radicale.cert.cert, intervalSeconds: 60 } }),
      labProfile(dovecot, 'dav-retired', { act: { url: `${radicale.tlsUrl}{localpart}/retired/`, caFile: radicale.cert.cert, intervalSeconds: 60 } }),
      // A server that accepts connections and never greets: Test & Enable stays running for minutes.
      labProfile(dovecot, 'slow', { incoming: { host: '127.0.0.1', port: silent.port, security: 'tls' }, timeouts: { connectSeconds: 600, greetingSeconds: 600, socketSeconds: 600 } }),
    ],
    organization: { processOnlyApproved: true, requireAdminApprovalForTrustedProfiles: true, retry: { intervalSeconds: 30 } },
    sync: { pollIntervalSeconds: 30, jitterRatio: 0.2 },
    extra: {
      autodiscover: { dnsServers: [dns.server], autoconfigUrls: [`http://127.0.0.1:${closed}/{domain}`], timeoutSeconds: 2 },
      api: { tokens: [{ name: 'demo', role: 'operator', token: '${DEMO_TOKEN}' }] },
      webhooks: [{ id: 'demo-sink', url: `http://127.0.0.1:${sinkPort}/mailsync`, secret: '${DEMO_WEBHOOK_SECRET}' }],
    },
  });

  const webhookSink: ChildProcess = spawn(process.execPath, [path.join(root, 'demo/webhook-sink.mjs')], {
    env: { ...process.env, DEMO_WEBHOOK_PORT: String(sinkPort) }, stdio: ['ignore', 'ignore', 'inherit'],
  });
  stops.push(async () => {
    webhookSink.kill('SIGTERM');
    await new Promise((r) => webhookSink.once('exit', r));
  });

  const runner: Running = startCli(['run', '--config', lab.file, '--log-level', 'info'], lab.env);
  stops.push(() => runner.stop());
  const url = String((await runner.waitForLog((e) => e.msg === 'mailsync started')).url);
  const api = (route: string, body: object) => callApi(url, TOKEN, 'POST', route, body);
  await api('/mailboxes/outbox/emails', { to: 'customer@customers.example', subject: 'Your order has shipped', text: 'It is on its way.' });
  await api('/mailboxes/newdesk/test-enable', {});

  const generator: ChildProcess = spawn(process.execPath, [path.join(root, 'demo/generator.mjs')], {
    env: { ...process.env, DEMO_IMAP_HOST: '127.0.0.1', DEMO_IMAP_PORT: String(dovecot.imapPort), DEMO_PASSWORD: 'demo-password', DEMO_USERS: healthy.join(',') },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  stops.push(async () => {
    generator.kill('SIGTERM');
    await new Promise((r) => generator.once('exit', r));
  });

  const sink = await WebhookSink.start();
  stops.push(() => sink.stop());
  const alertmanager = await Alertmanager.start(path.join(root, 'alerts/alertmanager.yml'), sink);
  stops.push(() => alertmanager.stop());
  const rulesDir = path.join(root, 'alerts/rules');
  const prometheus = await Prometheus.start({
    targets: [new URL(url).host], rules: readdirSync(rulesDir).map((f) => path.join(rulesDir, f)), alertmanagers: [alertmanager.url], evaluationSeconds: 5,
  });
  stops.push(() => prometheus.stop());

  let reported = 0;
  const report = setInterval(() => {
    for (const n of sink.notifications.slice(reported)) {
      for (const a of n.alerts) say(`alert ${a.status} → ${n.receiver}: ${a.labels.alertname} ${a.labels.mailbox ?? a.labels.profile ?? ''}`);
    }
    reported = sink.notifications.length;
  }, 1_000);
  stops.push(async () => clearInterval(report));

  // The organizer alert counts new failures (an increase over the hour): once Prometheus has seen
  // the mailbox's counter at 0, an appointment with attendees and no organizer arrives, and a Test
  // & Enable wakes the mailbox's ACT cycle to meet it.
  void prometheus.waitFor('mailsync_mailbox_items_failed_total{mailbox="act-organizer", code="appointment_organizer_missing"} == 0', (r) => r.length === 1, 120_000)
    .then(() => radicale.put(davUsers[2]!, '/act-organizer/calendar/offsite.ics', vevent('offsite', 'Offsite (organizer missing)', { attendees: ['team@lab.example'], organizer: false })))
    .then(() => api('/mailboxes/act-organizer/test-enable', {}))
    .catch((e: Error) => say(`the organizer-missing appointment was not added: ${e.message}`));
  console.log(`READY status=${url}/ metrics=${url}/metrics prometheus=${prometheus.url} alertmanager=http://${alertmanager.url}`);
  say(`API token for mailsync mailboxes/send: MAILSYNC_URL=${url} MAILSYNC_TOKEN=${TOKEN}`);
  say('Ctrl-C stops everything.');

  const shot = process.argv[process.argv.indexOf('--screenshot') + 1];
  if (process.argv.includes('--screenshot') && shot) {
    // For the README: the status page once the broken mailboxes have failed.
    await prometheus.waitFor('count(mailsync_mailbox_health{health="failing"} == 1)', (r) => Number(r[0]?.value[1] ?? 0) >= 7, 90_000);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'], headless: true });
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    await page.goto(`${url}/`);
    await page.screenshot({ path: shot, fullPage: true });
    await browser.close();
    say(`wrote ${shot}`);
    await stopAll(0);
  }

  if (check) {
    // Every bucket of the summary has mailboxes in it.
    const buckets = await prometheus.waitFor('sum by (health) (mailsync_profile_mailboxes) > 0', (r) => r.length === 5, 60_000);
    say(`check: mailboxes per bucket ${buckets.map((b) => `${b.metric.health}=${b.value[1]}`).sort().join(' ')}`);
    const firing = await prometheus.waitFor('ALERTS{alertstate="firing", alertname=~"MailsyncMailbox.*"}', (r) => new Set(r.map((s) => s.metric.alertname)).size >= 7, 90_000);
    say(`check: firing ${[...new Set(firing.map((s) => s.metric.alertname))].sort().join(', ')}`);
    const delivered = await waitFor(async () => ((await (await callApi(url, TOKEN, 'GET', '/webhooks/deliveries?state=delivered&limit=1000')).json()) as { items: unknown[] }).items.length,
      { what: 'webhook deliveries to the demo sink', timeoutMs: 60_000 });
    say(`check: ${delivered} changes delivered to the webhook sink`);
    await stopAll(0);
  }
} catch (error) {
  say(`failed: ${(error as Error).stack ?? String(error)}`);
  await stopAll(1);
}
