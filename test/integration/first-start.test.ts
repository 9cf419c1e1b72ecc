import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { Alertmanager, WebhookSink } from '../harness/alertmanager.js';
import { callApi, runCli } from '../harness/cli.js';
import { labProfile, writeLabConfig, type LabMailbox } from '../harness/config.js';
import { Dovecot } from '../harness/dovecot.js';
import { makeMessage } from '../harness/mail.js';
import { freePort } from '../harness/ports.js';
import type { Prometheus } from '../harness/prometheus.js';
import { startRunnerWithAlerting, type RunnerWithAlerting } from '../harness/alerting-stack.js';
import { waitFor } from '../harness/wait.js';

/**
 * Issue 19: the first start of a deployment that processes only approved mailboxes must not page
 * for approvals the operators already gave. Real Dovecot, the runner, the project's rules in a real
 * Prometheus, the example routing in a real Alertmanager. A dozen mailboxes are approved in the
 * config (a profile's default, mailboxes' own, an admin's for the trusted profile), one more with
 * the offline `mailboxes approve --profile` before the first run. One control mailbox, approved but
 * with a wrong password, proves that the pipeline delivers pages while no approval page comes.
 */
const VIEWER = 'viewer-token-for-the-first-start-test';
const APPROVAL_ALERT = /Approval/;

let dovecot: Dovecot;
let sink: WebhookSink;
let alertmanager: Alertmanager;
let prometheus: Prometheus;
let url: string;
let stack: RunnerWithAlerting;
let lab: ReturnType<typeof writeLabConfig>;

const byProfile: LabMailbox[] = Array.from({ length: 9 }, (_, i) => ({ id: `desk-${i + 1}`, user: `f-desk-${i + 1}` }));
const ownApproval: LabMailbox[] = [
  { id: 'sales', user: 'f-sales', approval: { approvedBy: 'Mail Team Lead', role: 'operator' } },
  { id: 'legal', user: 'f-legal', approval: { approvedBy: 'Head of IT', role: 'admin' } },
  { id: 'board', user: 'f-board@lab.example', profile: 'trusted', approval: { approvedBy: 'Head of IT', role: 'admin' } },
];
const offline: LabMailbox = { id: 'archive', user: 'f-archive', profile: 'late' };
const control: LabMailbox = { id: 'control', user: 'f-control', password: 'not-its-password', profile: 'control' };
const MAILBOXES = [...byProfile, ...ownApproval, offline, control];

beforeAll(async () => {
  dovecot = await Dovecot.start();
  sink = await WebhookSink.start();
  for (const m of [...byProfile, ...ownApproval, offline, control]) await dovecot.append(dovecot.addUser(m.user), 'INBOX', [makeMessage(1)]);
  dovecot.addUser('f-newcomer');
  process.env.LAB_FIRST_VIEWER = VIEWER;
  process.env.LAB_FIRST_MASTER = dovecot.master.password;
  lab = writeLabConfig(dovecot, {
    listen: `127.0.0.1:${await freePort()}`,
    mailboxes: MAILBOXES,
    profiles: [
      labProfile(dovecot, 'lab', { approval: { approvedBy: 'Mail Team Lead', role: 'operator' } }),
      labProfile(dovecot, 'trusted', { auth: { mode: 'impersonation', credentials: { username: dovecot.master.name, password: '${LAB_FIRST_MASTER}' } } }),
      labProfile(dovecot, 'late'),
      labProfile(dovecot, 'control', { approval: { approvedBy: 'Mail Team Lead', role: 'operator' } }),
    ],
    organization: { processOnlyApproved: true, requireAdminApprovalForTrustedProfiles: true },
    sync: { jitterRatio: 0 },
    extra: { api: { tokens: [{ name: 'dashboard', role: 'viewer', token: '${LAB_FIRST_VIEWER}' }] } },
  });
  // Before the first run there is no API: the offline path writes the approval into the store.
  const approved = await runCli(['mailboxes', 'approve', '--profile', 'late', '--config', lab.file, '--comment', 'migrated archive'], lab.env);
  expect(approved, approved.stderr).toMatchObject({ code: 0, stdout: 'approved 1: archive\n' });

  stack = await startRunnerWithAlerting(lab, sink);
  ({ url, prometheus, alertmanager } = stack);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await sink?.stop();
  await dovecot?.stop();
});

const subject = (labels: Record<string, string>) => `${labels.alertname} ${labels.mailbox ?? labels.profile ?? ''}`;

/** Waits until every mailbox has had a cycle and the rules were evaluated on a scrape after it. */
async function rulesSeeEveryCycle(count: number): Promise<void> {
  await prometheus.waitFor(`count(sum by (mailbox) (mailsync_mailbox_sync_runs_total) > 0) == ${count}`, (r) => r.length === 1, 30_000);
  const cycled = Date.now();
  await waitFor(() => prometheus.rulesEvaluatedAt(), { what: 'every rule group to be evaluated again', until: (at) => at > cycled });
}

/** What fires in Prometheus, once Alertmanager holds (and has processed) each of those alerts. */
async function firingEverywhere(): Promise<{ firing: string[]; routed: string[] }> {
  const firing = (await prometheus.query('ALERTS')).map((s) => `${s.metric.alertstate} ${subject(s.metric)}`);
  const routed = await waitFor(() => alertmanager.routed(), {
    what: `Alertmanager to have processed every firing alert (${firing.join(', ')})`,
    until: (r) => firing.filter((f) => f.startsWith('firing ')).every((f) => r.some((a) => `firing ${subject(a.labels)}` === f)) && r.every((a) => a.state !== 'unprocessed'),
  });
  return { firing, routed: routed.map((a) => subject(a.labels)) };
}

describe('the first start with approvals in order', () => {
  it('syncs every approved mailbox and pages only for the control, never for an approval', async () => {
    // The positive event: the control's page went all the way to the receiver.
    await waitFor(() => sink.alerts(), {
      what: 'the control mailbox page', until: (a) => a.some((x) => x.labels.alertname === 'MailsyncMailboxCredentialsRejected' && x.labels.mailbox === 'control'), timeoutMs: 30_000, intervalMs: 250,
    });
    await rulesSeeEveryCycle(MAILBOXES.length);
    const { firing, routed } = await firingEverywhere();
    const unrelated = [...firing, ...routed].filter((s) => !s.endsWith(' control'));
    expect(unrelated, 'alerts about anything but the control').toEqual([]);
    expect([...firing, ...routed, ...sink.alerts().map((a) => subject(a.labels))].filter((s) => APPROVAL_ALERT.test(s))).toEqual([]);

    const list = await (await callApi(url, VIEWER, 'GET', '/mailboxes?pageSize=500')).json() as { items: { id: string; approval: { state: string; by: string; role: string }; directions: { incoming: { enabled: boolean; status: string } } }[] };
    const synced = list.items.filter((m) => m.directions.incoming.enabled && m.directions.incoming.status === 'success').map((m) => m.id).sort();
    expect(synced).toEqual(MAILBOXES.filter((m) => m !== control).map((m) => m.id).sort());
    const approvals = Object.fromEntries(list.items.map((m) => [m.id, `${m.approval.state} ${m.approval.by} ${m.approval.role}`]));
    expect(approvals).toMatchObject({
      'desk-1': 'approved Mail Team Lead operator', legal: 'approved Head of IT admin', board: 'approved Head of IT admin',
      archive: expect.stringMatching(/^approved local:\S+ admin$/),
    });
    const audit = await (await callApi(url, VIEWER, 'GET', '/mailboxes/board')).json() as { audit: { actor: string; role: string; action: string }[] };
    expect(audit.audit).toMatchObject([{ actor: 'Head of IT', role: 'admin', action: 'approve_from_config' }]);
  });

  it('a mailbox added on reload with its approval syncs without an approval page', async () => {
    const doc = parse(readFileSync(lab.file, 'utf8')) as { mailboxes: Record<string, unknown>[] };
    doc.mailboxes.push({
      id: 'newcomer', address: 'f-newcomer@lab.example', profile: 'late',
      credentials: { username: 'f-newcomer', password: 'pw-f-newcomer' }, approval: { approvedBy: 'Head of IT', role: 'operator' },
    });
    writeFileSync(lab.file, stringify(doc));
    expect((await fetch(`${url}/-/reload`, { method: 'POST' })).status).toBe(200);
    await rulesSeeEveryCycle(MAILBOXES.length + 1);
    const { firing, routed } = await firingEverywhere();
    expect([...firing, ...routed].filter((s) => !s.endsWith(' control'))).toEqual([]);
    const view = await (await callApi(url, VIEWER, 'GET', '/mailboxes/newcomer')).json() as { approval: { by: string }; directions: { incoming: { status: string } } };
    expect(view).toMatchObject({ approval: { by: 'Head of IT' }, directions: { incoming: { status: 'success' } } });
  });
});
