import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeActConfig } from '../harness/act-lab.js';
import { startRunnerWithAlerting, type RunnerWithAlerting } from '../harness/alerting-stack.js';
import { WebhookSink } from '../harness/alertmanager.js';
import { callApi } from '../harness/cli.js';
import { freePort } from '../harness/ports.js';
import type { Prometheus } from '../harness/prometheus.js';
import { Radicale, vcard, vevent, type RadicaleUser } from '../harness/radicale.js';
import { waitFor } from '../harness/wait.js';

/**
 * The three alerts of appointments, contacts and tasks, end to end (a sibling of alerting.test.ts
 * on the same stack): real Radicale failures make the running exporter disable ACT (server
 * stopped, no retries allowed), record an appointment without an organizer, and meet another
 * organization's ownership mark; Prometheus with alerts/rules and Alertmanager with the example
 * routing page for them, and the two disables resolve after the fix and Test & Enable.
 */
const OPERATOR = 'operator-token-for-the-act-alerting-test';

let radicale: Radicale;
let down: Radicale;
let sink: WebhookSink;
let prometheus: Prometheus;
let url: string;
let stack: RunnerWithAlerting;

const user = (name: string): RadicaleUser => ({ name, password: `pw-${name}` });
const [ok, org, mark, gone] = ['act-ok', 'act-org', 'act-mark', 'act-down'].map(user) as [RadicaleUser, RadicaleUser, RadicaleUser, RadicaleUser];

beforeAll(async () => {
  radicale = await Radicale.start([ok, org, mark]);
  down = await Radicale.start([gone]);
  for (const u of [ok, org, mark]) {
    await radicale.makeCalendar(u, 'calendar');
    await radicale.makeAddressBook(u, 'contacts');
    await radicale.put(u, `/${u.name}/calendar/e.ics`, vevent('e', 'meeting', { attendees: ['a@example.test'] }));
    await radicale.put(u, `/${u.name}/contacts/c.vcf`, vcard('c', 'Carol'));
  }
  await radicale.setProperty(mark, '/act-mark/', 'urn:mailsync:ownership', 'mailsync-owner', 'another-org');
  await down.makeCalendar(gone, 'calendar');
  await down.stopPlain();
  sink = await WebhookSink.start();
  process.env.LAB_ACT_OPERATOR = OPERATOR;
  const lab = writeActConfig({
    url: radicale.url,
    mailboxes: [ok, org, mark].map((u) => ({ id: u.name, user: u.name, password: u.password })).concat([{ id: gone.name, user: gone.name, password: gone.password, profile: 'dav-down' }] as never),
    profiles: { 'dav-down': { owner: 'dav-owner@lab.example', act: { url: down.url, requestTimeoutSeconds: 5 } } },
    organization: { retry: { maxTransientRetries: 0 } },
    extra: {
      server: { listen: `127.0.0.1:${await freePort()}` },
      // First cycles are spread over the interval's jitter window (90 s of 15 minutes): not here.
      sync: { jitterRatio: 0 },
      api: { tokens: [{ name: 'oncall', role: 'operator', token: '${LAB_ACT_OPERATOR}' }] },
    },
  });
  stack = await startRunnerWithAlerting(lab, sink);
  ({ url, prometheus } = stack);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await sink?.stop();
  await down?.stop();
  await radicale?.stop();
});

function seen(): string[] {
  return [...new Set(sink.alerts().map((a) => `${a.receiver} ${a.status} ${a.labels.alertname} ${a.labels.mailbox ?? a.labels.profile ?? ''}`))].sort();
}

async function waitForNotifications(expected: string[], timeoutMs = 40_000): Promise<void> {
  await waitFor(seen, { what: `the notifications ${expected.join(', ')}`, until: (s) => expected.every((e) => s.includes(e)), timeoutMs, intervalMs: 250 });
}

describe('the ACT alerts end to end', () => {
  it('fire from real Radicale failures with direction="act", and the disables resolve after Test & Enable', async () => {
    const api = (route: string, body: object) => callApi(url, OPERATOR, 'POST', route, body);
    // The organizer alert is an increase over the hour: Prometheus first sees the counter at 0,
    // then the appointment arrives on the server and the next cycle (woken by Test & Enable) meets it.
    await prometheus.waitFor('mailsync_mailbox_items_failed_total{mailbox="act-org", code="appointment_organizer_missing"} == 0', (r) => r.length === 1);
    await radicale.put(org, '/act-org/calendar/bad.ics', vevent('bad', 'no organizer', { attendees: ['b@example.test'], organizer: false }));
    expect((await api('/mailboxes/act-org/test-enable', {})).status).toBe(202);
    await waitForNotifications([
      'page firing MailsyncMailboxDisabled act-down',
      'page firing MailsyncMailboxConfiguredInAnotherOrg act-mark',
      'ticket firing MailsyncAppointmentOrganizerMissing act-org',
      'profile-owner firing MailsyncProfileMailboxesFailing dav-down',
    ]);
    const alerts = sink.alerts();
    expect(alerts.find((a) => a.labels.alertname === 'MailsyncMailboxDisabled')?.labels).toMatchObject({ direction: 'act', code: 'connect_failed', mailbox: 'act-down' });
    expect(alerts.find((a) => a.labels.alertname === 'MailsyncMailboxConfiguredInAnotherOrg')?.labels).toMatchObject({ direction: 'act', code: 'configured_in_another_org' });
    expect(alerts.find((a) => a.labels.alertname === 'MailsyncAppointmentOrganizerMissing')?.labels).toMatchObject({ direction: 'act', mailbox: 'act-org' });
    // The healthy mailbox pages for nothing.
    expect(seen().filter((l) => l.includes(' act-ok'))).toEqual([]);

    await down.restartPlain();
    expect((await api('/mailboxes/act-down/test-enable', {})).status).toBe(202);
    expect((await api('/mailboxes/act-mark/test-enable', { thisOrganizationOnly: true })).status).toBe(202);
    await waitForNotifications([
      'page resolved MailsyncMailboxDisabled act-down',
      'page resolved MailsyncMailboxConfiguredInAnotherOrg act-mark',
    ]);
    const view = await (await callApi(url, OPERATOR, 'GET', '/mailboxes/act-mark')).json() as { directions: { act: { enabled: boolean } } };
    expect(view.directions.act.enabled).toBe(true);
  }, 120_000);
});
