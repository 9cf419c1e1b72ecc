import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../exporter/src/store/index.js';
import { runCli, startCli } from '../harness/cli.js';
import { writeLabConfig } from '../harness/config.js';
import { Dovecot } from '../harness/dovecot.js';
import { makeMessage } from '../harness/mail.js';
import { waitFor } from '../harness/wait.js';

// C: a mailbox defined through the admin API of a real `mailsync run` is synced without a
// restart; deleted, its jobs stop while the file's mailbox goes on.

let dovecot: Dovecot;
beforeAll(async () => {
  dovecot = await Dovecot.start();
});
afterAll(async () => {
  await dovecot?.stop();
});

const TOKEN = 'admin-token-for-definitions-0123';
// writeLabConfig loads the file with this process's environment.
process.env.DEFS_TOKEN = TOKEN;

async function inStore<T>(dbPath: string, read: (s: Awaited<ReturnType<typeof openStore>>) => Promise<T>): Promise<T> {
  const store = await openStore({ path: dbPath });
  try {
    return await read(store);
  } finally {
    await store.close();
  }
}

const call = (url: string, method: string, route: string, body?: object) => fetch(`${url}/api${route}`, {
  method, headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}),
});

describe('mailboxes defined through the API of a running mailsync', () => {
  it('syncs a mailbox created through the API at once, and stops its jobs when it is deleted', async () => {
    const ann = dovecot.addUser('defs-ann');
    const zed = dovecot.addUser('defs-zed');
    dovecot.seedMaildir(ann.name, [makeMessage(0), makeMessage(1)]);
    dovecot.seedMaildir(zed.name, [makeMessage(10), makeMessage(11), makeMessage(12)]);
    const lab = writeLabConfig(dovecot, {
      mailboxes: [{ id: 'ann', user: ann.name }],
      sync: { pollIntervalSeconds: 1, jitterRatio: 0 },
      extra: { api: { tokens: [{ name: 'root', role: 'admin', token: '${DEFS_TOKEN}' }] } },
    });
    const dbPath = path.join(lab.dir, 'mailsync.db');
    const run = startCli(['run', '--config', lab.file, '--log-level', 'info'], { ...lab.env, DEFS_TOKEN: TOKEN, ZED_PW: zed.password });
    try {
      const url = String((await run.waitForLog((e) => e.msg === 'mailsync started')).url);
      await waitFor(() => inStore(dbPath, (s) => s.mail.countEmails('ann')), { what: 'the file\'s mailbox to be synced', until: (n) => n === 2 });

      const created = await call(url, 'POST', '/mailboxes', {
        id: 'zed', address: 'zed@lab.example', profile: 'lab', credentials: { username: zed.name, password: { env: 'ZED_PW' } },
      });
      expect(created.status).toBe(201);
      await waitFor(() => inStore(dbPath, (s) => s.mail.countEmails('zed')), { what: 'the API\'s mailbox to be synced without a restart', until: (n) => n === 3 });
      const shown = (await (await call(url, 'GET', '/mailboxes/zed')).json()) as { source: string; audit: { action: string }[] };
      expect(shown.source).toBe('api');
      expect(shown.audit.map((a) => a.action)).toContain('create_mailbox');

      expect((await call(url, 'DELETE', '/mailboxes/zed')).status).toBe(200);
      const runsAtDelete = await inStore(dbPath, (s) => s.runs.listRuns('zed', 1_000));
      await dovecot.append(zed, 'INBOX', [makeMessage(13)]);
      await dovecot.append(ann, 'INBOX', [makeMessage(2)]);
      // The file's mailbox keeps running: once it has stored the new message and run twice more,
      // a job of the deleted mailbox would have run too (same 1 s interval).
      const annRuns = (await inStore(dbPath, (s) => s.runs.listRuns('ann', 1_000))).length;
      await waitFor(() => inStore(dbPath, async (s) => ({ emails: await s.mail.countEmails('ann'), runs: (await s.runs.listRuns('ann', 1_000)).length })), {
        what: 'the file\'s mailbox to sync on', until: (x) => x.emails === 3 && x.runs >= annRuns + 3,
      });
      const after = await inStore(dbPath, async (s) => ({ emails: await s.mail.countEmails('zed'), runs: await s.runs.listRuns('zed', 1_000) }));
      expect(after.emails).toBe(3);
      // At most the cycle that was under way when the delete came.
      expect(after.runs.length).toBeLessThanOrEqual(runsAtDelete.length + 1);
      expect((await call(url, 'GET', '/mailboxes/zed')).status).toBe(404);
    } finally {
      await run.stop();
    }
    expect(await run.exited).toMatchObject({ code: 0 });
  });

  it('refuses a reload, then a start, when the file and the API\'s definitions do not validate together, naming both', async () => {
    const ann = dovecot.addUser('defs-start');
    const lab = writeLabConfig(dovecot, { mailboxes: [{ id: 'ann', user: ann.name }], extra: { api: { tokens: [{ name: 'root', role: 'admin', token: '${DEFS_TOKEN}' }] } } });
    const env = { ...lab.env, DEFS_TOKEN: TOKEN, OTHER_PW: 'x' };
    const run = startCli(['run', '--config', lab.file, '--log-level', 'info'], env);
    try {
      const url = String((await run.waitForLog((e) => e.msg === 'mailsync started')).url);
      const created = await call(url, 'POST', '/mailboxes', { id: 'api-one', address: 'shared@lab.example', profile: 'lab', credentials: { username: 'u', password: { env: 'OTHER_PW' } } });
      expect(created.status).toBe(201);
      // The file now gives another mailbox the API mailbox's address: a reload is refused, nothing imported.
      const doc = parse(readFileSync(lab.file, 'utf8')) as { mailboxes: object[] };
      doc.mailboxes.push({ id: 'file-two', address: 'shared@lab.example', profile: 'lab', credentials: { username: 'u', password: '${OTHER_PW}' } });
      writeFileSync(lab.file, stringify(doc));
      const reload = await fetch(`${url}/-/reload`, { method: 'POST' });
      expect(reload.status).toBe(500);
      expect(await reload.text()).toContain('mailbox "api-one" (api).address: "shared@lab.example" is already used by mailbox "file-two"');
      expect((await call(url, 'GET', '/mailboxes/file-two')).status).toBe(404);
    } finally {
      await run.stop();
    }
    const refused = await runCli(['run', '--config', lab.file], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`mailbox "api-one" (api).address: "shared@lab.example" is already used by mailbox "file-two" (file:${lab.file})`);
  });
});
