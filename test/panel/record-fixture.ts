/**
 * Records the panel's browser-test fixture: a real mailsync run against a real Dovecot, scraped by
 * a real Prometheus, then the panel's eight instant queries through Prometheus' HTTP API, saved as
 * they were answered. Run with `npm run panel:fixture` after changing the metrics or the queries.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCli } from '../harness/cli.js';
import { labProfile, writeLabConfig, type LabMailbox } from '../harness/config.js';
import { Dovecot } from '../harness/dovecot.js';
import { makeMessage } from '../harness/mail.js';
import { freePort } from '../harness/ports.js';
import { Prometheus } from '../harness/prometheus.js';
import { SilentServer } from '../harness/responder.js';
import { QUERIES } from '../../grafana-plugin/src/data/queries.js';

const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../grafana-plugin/test/fixtures/prometheus.json');
const TOKEN = 'operator-token-for-the-fixture';

const dovecot = await Dovecot.start();
const silent = await SilentServer.start();
try {
  // 40 mailboxes that look like a small organisation: most healthy, some broken on purpose.
  const names = ['sales', 'support', 'billing', 'hr', 'legal', 'ops', 'press', 'jobs', 'info', 'partners'];
  const mailboxes: LabMailbox[] = [];
  for (let i = 0; i < 30; i++) {
    const user = dovecot.addUser(`${names[i % names.length]}${Math.floor(i / names.length) || ''}`);
    await dovecot.append(user, 'INBOX', [makeMessage(i)]);
    mailboxes.push({ id: user.name, user: user.name, profile: i % 3 === 0 ? 'archive' : 'lab' });
  }
  for (const n of ['cfo', 'ceo', 'audit']) mailboxes.push({ id: n, user: dovecot.addUser(n).name, password: 'wrong' });
  for (const n of ['eu-desk', 'us-desk', 'apac-desk', 'latam-desk']) mailboxes.push({ id: n, user: n, profile: 'down' });
  for (const n of ['intern1', 'intern2']) mailboxes.push({ id: n, user: dovecot.addUser(n).name, incoming: false });
  mailboxes.push({ id: 'newhire', user: 'newhire', profile: 'stuck' });
  process.env.LAB_FIXTURE_TOKEN = TOKEN;
  const lab = writeLabConfig(dovecot, {
    listen: `127.0.0.1:${await freePort()}`,
    mailboxes,
    profiles: [
      labProfile(dovecot, 'archive', { owner: 'records@lab.example' }),
      labProfile(dovecot, 'down', { incoming: { host: '127.0.0.1', port: await freePort(), security: 'tls' } }),
      labProfile(dovecot, 'stuck', { incoming: { host: '127.0.0.1', port: silent.port, security: 'tls' }, timeouts: { connectSeconds: 120, greetingSeconds: 120, socketSeconds: 120 } }),
    ],
    sync: { jitterRatio: 0 },
    extra: { api: { tokens: [{ name: 'fixture', role: 'operator', token: '${LAB_FIXTURE_TOKEN}' }] } },
  });
  const run = startCli(['run', '--config', lab.file, '--log-level', 'info'], lab.env);
  try {
    const url = String((await run.waitForLog((e) => e.msg === 'mailsync started')).url);
    await fetch(`${url}/api/mailboxes/newhire/test-enable`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{}' });
    const prometheus = await Prometheus.start({ targets: [new URL(url).host] });
    try {
      await prometheus.waitFor('count(mailsync_mailbox_health == 1)', (r) => r[0]?.value[1] === String(mailboxes.length));
      await prometheus.waitFor('count(mailsync_mailbox_health{health="failing"} == 1)', (r) => r[0]?.value[1] === '3');
      await prometheus.waitFor('count(mailsync_mailbox_health{health="intermittent"} == 1)', (r) => r[0]?.value[1] === '4');
      const recorded: Record<string, unknown> = {};
      for (const [ref, expr] of Object.entries(QUERIES)) {
        recorded[ref] = await (await fetch(`${prometheus.url}/api/v1/query?${new URLSearchParams({ query: expr })}`)).json();
      }
      writeFileSync(out, `${JSON.stringify({ recordedAt: new Date().toISOString(), queries: QUERIES, responses: recorded }, null, 1)}\n`);
      console.log(`wrote ${out}`);
    } finally {
      await prometheus.stop();
    }
  } finally {
    run.child.kill('SIGTERM');
    await run.exited;
  }
} finally {
  await silent.stop();
  await dovecot.stop();
}
