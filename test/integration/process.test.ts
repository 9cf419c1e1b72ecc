import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../exporter/src/store/index.js';
import { runCli, startCli } from '../harness/cli.js';
import { writeLabConfig } from '../harness/config.js';
import { Dovecot } from '../harness/dovecot.js';
import { makeMessage } from '../harness/mail.js';
import { waitFor } from '../harness/wait.js';

let dovecot: Dovecot;
beforeAll(async () => {
  dovecot = await Dovecot.start();
});
afterAll(async () => {
  await dovecot?.stop();
});

const TOTAL = 1_500;

/** A mailbox big enough that a cycle in batches of 10 takes many transactions. */
function bigMailbox(name: string, extra: Parameters<typeof writeLabConfig>[1] extends infer O ? Partial<O & object> : never = {}) {
  const user = dovecot.addUser(name);
  dovecot.seedMaildir(user.name, Array.from({ length: TOTAL }, (_, i) => makeMessage(i, { attachmentBytes: 4_000 })));
  const lab = writeLabConfig(dovecot, { mailboxes: [{ id: name, user: user.name }], sync: { batchSize: 10 }, ...extra });
  return { user, ...lab, dbPath: path.join(lab.dir, 'mailsync.db') };
}

async function inspectStore(dbPath: string, mailbox: string) {
  const store = await openStore({ path: dbPath });
  try {
    const locations = await store.mail.emailLocations(mailbox);
    return {
      emails: await store.mail.countEmails(mailbox),
      uids: locations.map((l) => l.uid),
      subjects: new Set((await store.mail.listEmails(mailbox, 10_000)).map((e) => e.subject)),
      cursor: await store.mail.getCursor(mailbox, 'INBOX'),
      runs: (await store.runs.listRuns(mailbox)).map((r) => r.result),
    };
  } finally {
    await store.close();
  }
}

const expectedSubjects = new Set(Array.from({ length: TOTAL }, (_, i) => `Test message ${i}`));
const batchAfter = (uid: number) => (e: Record<string, unknown>) => e.msg === 'batch committed' && Number(e.lastUid) >= uid;

describe('the mailsync process', () => {
  it('check-config exits 0 for a valid file and 1 with the problems for an invalid one', async () => {
    const lab = writeLabConfig(dovecot, { mailboxes: [{ id: 'x', user: 'nobody' }] });
    const ok = await runCli(['check-config', '--config', lab.file], lab.env);
    expect(ok).toMatchObject({ code: 0, stdout: `${lab.file}: valid (1 profiles, 1 mailboxes)\n` });
    const bad = await runCli(['check-config', '--config', lab.file]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('mailboxes[0].credentials.password: environment variable LAB_PW_X is not set');
  });

  it('survives SIGKILL in the middle of a sync: the next run stores every message exactly once', async () => {
    const lab = bigMailbox('crash');
    const args = ['sync-once', '--config', lab.file, '--mailbox', 'crash', '--log-level', 'debug'];
    const first = startCli(args, lab.env);
    await first.waitForLog(batchAfter(300));
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');

    const midway = await inspectStore(lab.dbPath, 'crash');
    expect(midway.cursor!.lastUid).toBeGreaterThanOrEqual(300);
    expect(midway.cursor!.lastUid).toBeLessThan(TOTAL);
    // Whatever was committed is whole: one email per UID up to the cursor, nothing beyond it.
    expect(midway.emails).toBe(midway.cursor!.lastUid);

    const second = await runCli(args, lab.env);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ result: 'success', itemsProcessed: TOTAL - midway.cursor!.lastUid });
    const after = await inspectStore(lab.dbPath, 'crash');
    expect(after.emails).toBe(TOTAL);
    expect(after.uids).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
    expect(after.subjects).toEqual(expectedSubjects);
    // The killed run is closed as aborted when the next one starts.
    expect(after.runs).toEqual(['success', 'aborted']);
  });

  it('stops gracefully on SIGTERM during a cycle, then resumes where it stopped', async () => {
    const lab = bigMailbox('graceful');
    const run = startCli(['run', '--config', lab.file, '--log-level', 'debug'], lab.env);
    const started = await run.waitForLog((e) => e.msg === 'mailsync started');
    const url = String(started.url);
    expect((await fetch(`${url}/-/ready`)).status).toBe(200);
    await run.waitForLog(batchAfter(200));
    run.child.kill('SIGTERM');
    const exit = await run.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(run.stdout()).toContain('"msg":"mailsync stopped"');

    const stopped = await inspectStore(lab.dbPath, 'graceful');
    expect(stopped.runs).toEqual(['aborted']);
    expect(stopped.emails).toBe(stopped.cursor!.lastUid);
    expect(stopped.emails).toBeLessThan(TOTAL);

    const resumed = await runCli(['sync-once', '--config', lab.file, '--mailbox', 'graceful'], lab.env);
    expect(resumed.code).toBe(0);
    expect((await inspectStore(lab.dbPath, 'graceful')).subjects).toEqual(expectedSubjects);
  });

  it('runs the service: cycles every mailbox and counts them on /metrics', async () => {
    const a = dovecot.addUser('svc-a');
    const b = dovecot.addUser('svc-b');
    const c = dovecot.addUser('svc-c');
    await dovecot.append(a, 'INBOX', [makeMessage(1), makeMessage(2)]);
    await dovecot.append(b, 'INBOX', [makeMessage(3)]);
    const lab = writeLabConfig(dovecot, {
      mailboxes: [{ id: 'svc-a', user: a.name }, { id: 'svc-b', user: b.name }, { id: 'svc-bad', user: c.name, password: 'wrong' }],
      sync: { jitterRatio: 0 },
    });
    const run = startCli(['run', '--config', lab.file, '--log-level', 'info'], lab.env);
    try {
      const { url } = await run.waitForLog((e) => e.msg === 'mailsync started');
      const settled = (t: string) => t.includes('result="failure"} 1') && t.includes('result="success"} 2');
      const scrape = async () => (await fetch(`${String(url)}/metrics`)).text();
      const text = await waitFor(scrape, { what: 'two cycles to succeed and one to fail on /metrics', until: settled, intervalMs: 100 });
      expect(text).toContain('mailsync_sync_runs_total{direction="incoming",profile="lab",result="success"} 2');
      expect(text).toContain('mailsync_sync_runs_total{direction="incoming",profile="lab",result="failure"} 1');
      expect(text).toContain('mailsync_emails_stored_total{direction="incoming",profile="lab"} 3');
      expect(text).toContain('mailsync_sync_errors_total{direction="incoming",profile="lab",class="permanent",scope="mailbox",code="credentials_rejected"} 1');
      expect(text).toContain('mailsync_mailboxes_configured 3');
      expect(text).toContain('mailsync_mailbox_health{mailbox="svc-bad",health="failing"} 1');
      expect(text).toContain('mailsync_mailbox_disabled{mailbox="svc-bad",direction="incoming",code="credentials_rejected"} 1');
      expect(text).toContain('mailsync_mailbox_items_processed_total{mailbox="svc-a",direction="incoming"} 2');
      expect(text).not.toContain('wrong');
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
    expect(run.stdout()).not.toContain('pw-svc');
  });
});
