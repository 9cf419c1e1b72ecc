import { readFileSync, writeFileSync } from 'node:fs';
import { RUNBOOK_BASE_URL } from '@mailsync/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { WebhookSink, type Alertmanager } from '../harness/alertmanager.js';
import { callApi } from '../harness/cli.js';
import { labProfile, writeLabConfig } from '../harness/config.js';
import { Dnsmasq } from '../harness/dnsmasq.js';
import { Dovecot } from '../harness/dovecot.js';
import { makeMessage } from '../harness/mail.js';
import { freePort } from '../harness/ports.js';
import type { Prometheus } from '../harness/prometheus.js';
import { startRunnerWithAlerting, type RunnerWithAlerting } from '../harness/alerting-stack.js';
import { waitFor } from '../harness/wait.js';

/**
 * End to end on real servers: Dovecot, the running exporter, a real Prometheus loading
 * alerts/rules (1 s evaluation here only), and a real Alertmanager running alerts/alertmanager.yml
 * with its receivers pointed at a local webhook. Four mailboxes are broken for four documented
 * causes; the alerts must arrive with their labels and runbook, nothing else may fire; after each
 * fix and a Test & Enable (or an approval) through the API, the alert must resolve.
 */
const OPERATOR = 'operator-token-for-the-alerting-test';
const ADMIN = 'admin-token-for-the-alerting-test';
const RUNBOOK = `${RUNBOOK_BASE_URL}#`;

let dovecot: Dovecot;
let dns: Dnsmasq;
let sink: WebhookSink;
let alertmanager: Alertmanager;
let prometheus: Prometheus;
let url: string;
let stack: RunnerWithAlerting;
let lab: ReturnType<typeof writeLabConfig>;

beforeAll(async () => {
  dovecot = await Dovecot.start();
  dns = await Dnsmasq.start([]);
  sink = await WebhookSink.start();
  for (const name of ['ok1', 'ok2', 'ok3', 'tls', 'loc']) await dovecot.append(dovecot.addUser(`a-${name}`), 'INBOX', [makeMessage(1)]);
  dovecot.addUser('a-cred', 'old-password');
  dovecot.addUser('a-adm@lab.example');
  process.env.LAB_ALERT_OPERATOR = OPERATOR;
  process.env.LAB_ALERT_ADMIN = ADMIN;
  process.env.LAB_ALERT_MASTER = dovecot.master.password;
  const closed = await freePort();
  lab = writeLabConfig(dovecot, {
    listen: `127.0.0.1:${await freePort()}`,
    mailboxes: [
      { id: 'm-ok1', user: 'a-ok1' }, { id: 'm-ok2', user: 'a-ok2' }, { id: 'm-ok3', user: 'a-ok3' },
      { id: 'm-cred', user: 'a-cred', password: 'rotated-password' },
      { id: 'm-tls', user: 'a-tls', profile: 'tlsp' },
      { id: 'm-adm', user: 'a-adm@lab.example', profile: 'trusted' },
      { id: 'm-loc', user: 'a-loc', address: 'a-loc@nowhere.test', profile: 'auto' },
    ],
    profiles: [
      // Implicit TLS without the lab CA: an untrusted self-signed certificate.
      { ...labProfile(dovecot, 'tlsp', { owner: 'tls-owner@lab.example' }), incoming: { host: 'localhost', port: dovecot.imapsPort, security: 'tls' } },
      labProfile(dovecot, 'trusted', { owner: 'trusted-owner@lab.example', auth: { mode: 'impersonation', credentials: { username: dovecot.master.name, password: '${LAB_ALERT_MASTER}' } } }),
      { ...labProfile(dovecot, 'auto', { owner: 'auto-owner@lab.example' }), incoming: { autodiscover: true, caFile: dovecot.cert.cert } },
    ],
    organization: { requireAdminApprovalForTrustedProfiles: true },
    sync: { jitterRatio: 0 },
    extra: {
      autodiscover: { dnsServers: [dns.server], autoconfigUrls: [`http://127.0.0.1:${closed}/{domain}/config-v1.1.xml`], timeoutSeconds: 2 },
      api: { tokens: [{ name: 'oncall', role: 'operator', token: '${LAB_ALERT_OPERATOR}' }, { name: 'boss', role: 'admin', token: '${LAB_ALERT_ADMIN}' }] },
    },
  });
  stack = await startRunnerWithAlerting(lab, sink);
  ({ url, prometheus, alertmanager } = stack);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await sink?.stop();
  await dns?.stop();
  await dovecot?.stop();
});

/** "receiver status alertname subject" lines, where subject is the mailbox or the profile. */
function seen(): string[] {
  return lines(sink.alerts());
}

function lines(alerts: { receiver: string; status: string; labels: Record<string, string> }[]): string[] {
  return [...new Set(alerts.map((a) => `${a.receiver} ${a.status} ${subject(a.labels)}`))].sort();
}

/** "alertname subject", where subject is the mailbox or the profile. */
function subject(labels: Record<string, string>): string {
  return `${labels.alertname} ${labels.mailbox ?? labels.profile ?? ''}`;
}

async function waitForNotifications(expected: string[], timeoutMs = 30_000): Promise<void> {
  await waitFor(seen, { what: `the notifications ${expected.join(', ')}`, until: (s) => expected.every((e) => s.includes(e)), timeoutMs, intervalMs: 250 });
}

const api = (method: 'GET' | 'POST', route: string, token = OPERATOR, body?: object) => callApi(url, token, method, route, body);

const FIRING = [
  'page firing MailsyncMailboxCredentialsRejected m-cred',
  'page firing MailsyncMailboxSecureConnectionFailed m-tls',
  'page firing MailsyncMailboxAdminApprovalRequired m-adm',
  'page firing MailsyncMailboxLocationUnknown m-loc',
  // Each broken profile has one mailbox: all of it failed, so its owner hears, and a ticket opens.
  'profile-owner firing MailsyncProfileMailboxesFailing tlsp',
  'profile-owner firing MailsyncProfileMailboxesFailing trusted',
  'profile-owner firing MailsyncProfileMailboxesFailing auto',
  'ticket firing MailsyncProfileMailboxesFailing tlsp',
  'ticket firing MailsyncProfileMailboxesFailing trusted',
  'ticket firing MailsyncProfileMailboxesFailing auto',
];

describe('alerts end to end', () => {
  it('pages each broken mailbox once, with its labels and runbook, and nothing unrelated', async () => {
    await waitForNotifications(FIRING);
    // Nothing unrelated: once every mailbox has had its first cycle and every rule group has been
    // evaluated on what was scraped after that, whatever would fire is firing in Prometheus. Once
    // each of those is in Alertmanager, its groups show every receiver it goes to, notified yet or
    // not; an inhibited (suppressed) alert is never sent.
    await prometheus.waitFor('count(sum by (mailbox) (mailsync_mailbox_sync_runs_total) > 0) == 7', (r) => r.length === 1);
    const cycled = Date.now();
    await waitFor(() => prometheus.rulesEvaluatedAt(), { what: 'every rule group to be evaluated again', until: (at) => at > cycled });
    const firing = (await prometheus.query('ALERTS{alertstate="firing"}')).map((s) => subject(s.metric));
    const routed = await waitFor(() => alertmanager.routed(), {
      what: `Alertmanager to have processed every firing alert (${firing.join(', ')})`,
      until: (r) => firing.every((f) => r.some((a) => subject(a.labels) === f)) && r.every((a) => a.state !== 'unprocessed'),
    });
    expect(lines(routed.filter((a) => a.state === 'active').map((a) => ({ ...a, status: 'firing' })))).toEqual([...FIRING].sort());
    expect(seen()).toEqual([...FIRING].sort());

    const cred = sink.alerts().find((a) => a.labels.alertname === 'MailsyncMailboxCredentialsRejected');
    // The labels are the cause's identity; who it is about is in the description.
    expect(cred?.labels).toMatchObject({ severity: 'critical', mailbox: 'm-cred', direction: 'incoming', code: 'credentials_rejected', job: 'mailsync' });
    expect(cred?.labels).not.toHaveProperty('profile');
    expect(cred?.labels).not.toHaveProperty('address');
    expect(cred?.annotations).toMatchObject({
      runbook_url: `${RUNBOOK}mailsyncmailboxcredentialsrejected`,
      description: expect.stringContaining('mailsync disabled incoming sync of a-cred@lab.example (mailbox m-cred, profile lab) with credentials_rejected.'),
    });
    const tls = sink.alerts().find((a) => a.labels.alertname === 'MailsyncMailboxSecureConnectionFailed');
    expect(tls?.labels).toMatchObject({ mailbox: 'm-tls', code: 'secure_connection_failed' });
    expect(tls?.annotations.description).toContain('a-tls@lab.example (mailbox m-tls, profile tlsp)');
    expect(tls?.annotations.runbook_url).toBe(`${RUNBOOK}mailsyncmailboxsecureconnectionfailed`);
    const owner = sink.alerts().find((a) => a.receiver === 'profile-owner' && a.labels.profile === 'auto');
    expect(owner?.labels).toMatchObject({ notify: 'owner', owner: 'auto-owner@lab.example', severity: 'warning' });
  });

  it('keeps each alert while its fix is applied, resolving it once after Test & Enable (or approval)', async () => {
    const locAlert = async () => (await alertmanager.alerts()).filter((a) => subject(a.labels) === 'MailsyncMailboxLocationUnknown m-loc');
    const [before] = await locAlert();
    expect(before?.annotations.description).toContain('(mailbox m-loc, profile auto)');

    // Credentials: the server gets the rotated password.
    dovecot.addUser('a-cred', 'rotated-password');
    // TLS: the profile learns the CA. Location, as the runbook says: the mailbox gets a new profile
    // with an explicit host, and a reload. Both stay disabled until Test & Enable.
    const doc = parse(readFileSync(lab.file, 'utf8')) as { profiles: Record<string, unknown>[]; mailboxes: { id: string; profile: string }[] };
    (doc.profiles.find((p) => p.id === 'tlsp')!.incoming as Record<string, unknown>).caFile = dovecot.cert.cert;
    doc.profiles.push(labProfile(dovecot, 'loc-explicit', { owner: 'loc-owner@lab.example' }));
    doc.mailboxes.find((m) => m.id === 'm-loc')!.profile = 'loc-explicit';
    writeFileSync(lab.file, stringify(doc));
    const reloaded = await fetch(`${url}/-/reload`, { method: 'POST' });
    expect(reloaded.status).toBe(200);

    // Positive evidence that the change went all the way through before asserting what did not
    // happen: Prometheus scraped the new profile and evaluated every rule on it; Alertmanager holds
    // the alert with the new profile in its description; and the notifications the same change
    // causes have arrived (the emptied profile resolved, the new one, whose mailbox failed within
    // the hour, fired).
    await prometheus.waitFor('mailsync_mailbox_info{mailbox="m-loc", profile="loc-explicit"} unless on(mailbox) mailsync_mailbox_info{profile="auto"}', (r) => r.length === 1);
    const scraped = Date.now();
    await waitFor(() => prometheus.rulesEvaluatedAt(), { what: 'every rule group to be evaluated on the new profile', until: (at) => at > scraped });
    const [after] = await waitFor(locAlert, {
      what: 'Alertmanager to hold the location alert with its new profile',
      until: (a) => a.length === 1 && (a[0]?.annotations.description ?? '').includes('(mailbox m-loc, profile loc-explicit)'),
    });
    await waitForNotifications(['profile-owner resolved MailsyncProfileMailboxesFailing auto', 'profile-owner firing MailsyncProfileMailboxesFailing loc-explicit']);
    // One alert throughout: same identity, same start; one series in Prometheus; nothing resolved.
    expect({ fingerprint: after?.fingerprint, startsAt: after?.startsAt }).toEqual({ fingerprint: before?.fingerprint, startsAt: before?.startsAt });
    const series = await prometheus.query('count(count_over_time(ALERTS{alertname="MailsyncMailboxLocationUnknown", alertstate="firing", mailbox="m-loc"}[1h]))');
    expect(series.map((r) => r.value[1])).toEqual(['1']);
    expect(seen().filter((l) => l.startsWith('page resolved'))).toEqual([]);

    for (const id of ['m-cred', 'm-tls', 'm-loc']) expect((await api('POST', `/mailboxes/${id}/test-enable`, OPERATOR, {})).status).toBe(202);
    // Approval: only an admin may approve a mailbox of a trusted profile.
    expect((await api('POST', '/mailboxes/m-adm/approve', OPERATOR, {})).status).toBe(403);
    expect((await api('POST', '/mailboxes/m-adm/approve', ADMIN, { comment: 'e2e' })).status).toBe(200);

    await waitForNotifications([
      'page resolved MailsyncMailboxCredentialsRejected m-cred',
      'page resolved MailsyncMailboxSecureConnectionFailed m-tls',
      'page resolved MailsyncMailboxAdminApprovalRequired m-adm',
      'page resolved MailsyncMailboxLocationUnknown m-loc',
    ]);
    for (const id of ['m-cred', 'm-tls', 'm-adm', 'm-loc']) {
      const view = await (await api('GET', `/mailboxes/${id}`)).json() as { directions: { incoming: { enabled: boolean } } };
      expect(view.directions.incoming.enabled, id).toBe(true);
    }
    // The location alert was notified once firing and once resolved: the profile change in between
    // neither resolved it nor paged again (a second page would have come before its resolve).
    expect(sink.alerts().filter((a) => subject(a.labels) === 'MailsyncMailboxLocationUnknown m-loc').map((a) => a.status)).toEqual(['firing', 'resolved']);
  }, 90_000);
});
