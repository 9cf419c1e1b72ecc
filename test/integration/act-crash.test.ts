import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeActConfig } from '../harness/act-lab.js';
import { startCli } from '../harness/cli.js';
import { Radicale, vcard, vevent, vtodo } from '../harness/radicale.js';
import { waitFor } from '../harness/wait.js';

/**
 * Exactly once across a SIGKILL: the runner is killed as soon as the first collection's items are
 * committed, mid-sync of the others, then started again on the same store. Every item must be
 * stored once, with one version, and the collections' sync tokens must match what was stored.
 */
const u = { name: 'crash', password: 'pw-crash' };
const [EVENTS, TASKS, CONTACTS] = [500, 100, 500];
let radicale: Radicale;

beforeAll(async () => {
  radicale = await Radicale.start([u]);
  const cols = [await radicale.makeCalendar(u, 'calendar'), await radicale.makeCalendar(u, 'tasks', ['VTODO']), await radicale.makeAddressBook(u, 'contacts')];
  const folder = (href: string) => path.join(radicale.dir, 'collections/collection-root', href);
  for (let i = 0; i < EVENTS; i++) writeFileSync(path.join(folder(cols[0]!), `e${i}.ics`), vevent(`e${i}`, `event ${i}`, { attendees: ['a@example.test'] }));
  for (let i = 0; i < TASKS; i++) writeFileSync(path.join(folder(cols[1]!), `t${i}.ics`), vtodo(`t${i}`, `task ${i}`));
  for (let i = 0; i < CONTACTS; i++) writeFileSync(path.join(folder(cols[2]!), `c${i}.vcf`), vcard(`c${i}`, `Contact ${i}`));
  for (const href of cols) await radicale.dav(u, 'PROPFIND', href, '', { depth: '1' });
}, 180_000);
afterAll(async () => {
  await radicale?.stop();
});

describe('act across a SIGKILL', () => {
  it('stores every item exactly once after a kill mid-sync and a restart', async () => {
    const lab = writeActConfig({ url: radicale.url, mailboxes: [{ id: 'crash', user: u.name, password: u.password }], extra: { sync: { jitterRatio: 0 } } });
    const dbFile = path.join(lab.dir, 'mailsync.db');
    const count = (sql: string) => {
      try {
        const db = new Database(dbFile, { readonly: true, fileMustExist: true });
        try {
          return (db.prepare(sql).get() as { n: number }).n;
        } finally {
          db.close();
        }
      } catch {
        return 0;
      }
    };
    const first = startCli(['run', '--config', lab.file, '--log-level', 'warn'], lab.env);
    const committed = await waitFor(() => count('SELECT count(*) AS n FROM act_collection'), { what: 'the first collection to be committed', until: (n) => n >= 1, timeoutMs: 30_000, intervalMs: 5 });
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    const itemsAtKill = count('SELECT count(*) AS n FROM act_item');

    const second = startCli(['run', '--config', lab.file, '--log-level', 'warn'], lab.env);
    try {
      await waitFor(() => count('SELECT count(*) AS n FROM act_item'), { what: 'every item after the restart', until: (n) => n === EVENTS + TASKS + CONTACTS, timeoutMs: 60_000, intervalMs: 100 });
    } finally {
      await second.stop();
    }
    expect(count('SELECT count(*) AS n FROM act_collection')).toBe(3);
    expect(count('SELECT count(*) AS n FROM (SELECT href FROM act_item GROUP BY collection, href HAVING count(*) > 1)')).toBe(0);
    // One version each: nothing stored twice, even the collections committed before the kill.
    expect(count('SELECT count(*) AS n FROM act_item_version')).toBe(EVENTS + TASKS + CONTACTS);
    expect(count("SELECT count(*) AS n FROM act_item WHERE version != 1")).toBe(0);
    // What the kill left: whole collections only (each is one transaction).
    expect([EVENTS, TASKS, CONTACTS, EVENTS + TASKS, EVENTS + CONTACTS, TASKS + CONTACTS, EVENTS + TASKS + CONTACTS]).toContain(itemsAtKill);
    expect(committed).toBeGreaterThanOrEqual(1);
  }, 120_000);
});
