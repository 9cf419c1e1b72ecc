/**
 * bench:act — one mailbox with BENCH_EVENTS appointments, BENCH_TASKS tasks and BENCH_CONTACTS
 * contacts on a real Radicale: mailsync's initial sync, a cycle with nothing new (its time and
 * HTTP requests) and a cycle after BENCH_CHANGES changes, against, in the same run, raw tsdav
 * fetching the same collections and vdirsyncer syncing them to a local folder.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fetchCalendarObjects, fetchVCards, getBasicAuthHeaders } from 'tsdav';
import { openActLab } from '../harness/act-lab.js';
import { Radicale, vcard, vevent, vtodo } from '../harness/radicale.js';
import { fmt, peakRssMb, pool, progress, sizeFromEnv, timed } from './common.js';

const EVENTS = sizeFromEnv('BENCH_EVENTS', 2_000);
const TASKS = sizeFromEnv('BENCH_TASKS', 500);
const CONTACTS = sizeFromEnv('BENCH_CONTACTS', 2_000);
const CHANGES = sizeFromEnv('BENCH_CHANGES', 100);
const TOTAL = EVENTS + TASKS + CONTACTS;
const user = { name: 'bench', password: 'bench-pw' };

const radicale = await Radicale.start([user]);
const work = mkdtempSync(path.join(tmpdir(), 'mailsync-bench-act-'));
try {
  const cols = { calendar: await radicale.makeCalendar(user, 'calendar'), tasks: await radicale.makeCalendar(user, 'tasks', ['VTODO']), contacts: await radicale.makeAddressBook(user, 'contacts') };
  // Seeding through PUT would take minutes; Radicale reads item files written into its folder.
  const folder = (href: string) => path.join(radicale.dir, 'collections/collection-root', href);
  for (let i = 0; i < EVENTS; i++) writeFileSync(path.join(folder(cols.calendar), `e${i}.ics`), vevent(`e${i}`, `appointment ${i}`, { attendees: [`p${i}@example.test`] }));
  for (let i = 0; i < TASKS; i++) writeFileSync(path.join(folder(cols.tasks), `t${i}.ics`), vtodo(`t${i}`, `task ${i}`));
  for (let i = 0; i < CONTACTS; i++) writeFileSync(path.join(folder(cols.contacts), `c${i}.vcf`), vcard(`c${i}`, `Contact ${i}`));
  // Radicale builds its item cache on the first read: done once here, so every tool meets a warm server.
  for (const href of Object.values(cols)) await radicale.dav(user, 'PROPFIND', href, '', { depth: '1' });
  progress(`seeded ${EVENTS} events, ${TASKS} tasks, ${CONTACTS} contacts`);

  const lab = await openActLab({ url: radicale.url, mailboxes: [{ id: 'bench', user: user.name, password: user.password }], profiles: { dav: { act: { url: radicale.url, requestTimeoutSeconds: 120 } } } });
  const initial = await timed(() => lab.turn('bench'));
  const stored = (await lab.store.act.items('bench')).length;
  if (stored !== TOTAL) throw new Error(`mailsync stored ${stored} items, expected ${TOTAL}: ${JSON.stringify(initial.value.outcome)}`);
  const before = lab.requests();
  const nochange = await timed(() => lab.turn('bench'));
  const nochangeRequests = lab.requests() - before;
  await pool(Array.from({ length: CHANGES }, (_, i) => i), 4, async (i) => {
    await radicale.put(user, `${cols.calendar}e${i}.ics`, vevent(`e${i}`, `appointment ${i} moved`, { attendees: [`p${i}@example.test`] }));
  });
  const changed = await timed(() => lab.turn('bench'));
  await lab.close();
  const actRate = TOTAL / initial.seconds;
  progress(`mailsync: initial ${fmt(initial.seconds, 2)} s, no-change ${fmt(nochange.seconds * 1_000)} ms in ${nochangeRequests} requests, after ${CHANGES} changes ${fmt(changed.seconds * 1_000)} ms`);

  // Raw tsdav: the same three collections, the library's own fetch helpers (VTODO needs its filter).
  const headers = getBasicAuthHeaders({ username: user.name, password: user.password });
  const raw = await timed(async () => {
    const events = await fetchCalendarObjects({ calendar: { url: `${radicale.url.slice(0, -1)}${cols.calendar}` }, headers });
    const todos = await fetchCalendarObjects({
      calendar: { url: `${radicale.url.slice(0, -1)}${cols.tasks}` }, headers,
      filters: { 'comp-filter': { _attributes: { name: 'VCALENDAR' }, 'comp-filter': { _attributes: { name: 'VTODO' } } } },
    });
    const cards = await fetchVCards({ addressBook: { url: `${radicale.url.slice(0, -1)}${cols.contacts}` }, headers });
    return events.length + todos.length + cards.length;
  });
  if (raw.value !== TOTAL) throw new Error(`raw tsdav fetched ${raw.value} items, expected ${TOTAL}`);
  const rawRate = TOTAL / raw.seconds;

  // vdirsyncer to a filesystem storage, its collections discovered first (not timed).
  const vd = path.join(work, 'vdirsyncer');
  mkdirSync(path.join(vd, 'status'), { recursive: true });
  const pair = (name: string, type: 'caldav' | 'carddav', ext: string) => `[pair ${name}]\na = "${name}_remote"\nb = "${name}_local"\ncollections = ["from a"]\n\n`
    + `[storage ${name}_remote]\ntype = "${type}"\nurl = "${radicale.url}"\nusername = "${user.name}"\npassword = "${user.password}"\n\n`
    + `[storage ${name}_local]\ntype = "filesystem"\npath = "${path.join(vd, name)}/"\nfileext = "${ext}"\n\n`;
  writeFileSync(path.join(vd, 'config'), `[general]\nstatus_path = "${path.join(vd, 'status')}/"\n\n${pair('cal', 'caldav', '.ics')}${pair('card', 'carddav', '.vcf')}`);
  const vdirsyncer = (...args: string[]) => {
    const r = spawnSync('vdirsyncer', ['-c', path.join(vd, 'config'), ...args], { input: 'y\n'.repeat(20), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`vdirsyncer ${args.join(' ')} failed: ${r.stderr.slice(-2_000)}`);
  };
  vdirsyncer('discover');
  const vds = await timed(async () => vdirsyncer('sync'));
  const synced = ['cal', 'card'].flatMap((p) => readdirSync(path.join(vd, p)).flatMap((c) => readdirSync(path.join(vd, p, c)))).filter((f) => /\.(ics|vcf)$/.test(f)).length;
  if (synced !== TOTAL) throw new Error(`vdirsyncer synced ${synced} items, expected ${TOTAL}`);
  const vdRate = TOTAL / vds.seconds;

  console.log(`items ${TOTAL} (${EVENTS} events, ${TASKS} tasks, ${CONTACTS} contacts)`);
  console.log(`mailsync initial sync: ${fmt(initial.seconds, 2)} s (${fmt(actRate)} items/s); no-change cycle ${fmt(nochange.seconds * 1_000)} ms, ${nochangeRequests} request(s) for 3 collections; after ${CHANGES} changes ${fmt(changed.seconds * 1_000)} ms`);
  console.log(`raw tsdav fetch: ${fmt(raw.seconds, 2)} s (${fmt(rawRate)} items/s)`);
  console.log(`vdirsyncer sync: ${fmt(vds.seconds, 2)} s (${fmt(vdRate)} items/s)`);
  console.log(`RESULT act_items_per_s=${fmt(actRate)} raw_items_per_s=${fmt(rawRate)} vdirsyncer_items_per_s=${fmt(vdRate)} ratio_raw=${fmt(actRate / rawRate, 2)} ratio_vdirsyncer=${fmt(actRate / vdRate, 2)} nochange_ms=${fmt(nochange.seconds * 1_000)} peak_rss_mb=${peakRssMb()}`);
} finally {
  await radicale.stop();
  rmSync(work, { recursive: true, force: true });
}
