import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openActLab, type ActLab } from '../harness/act-lab.js';
import { Dnsmasq } from '../harness/dnsmasq.js';
import { manualClock } from '../harness/lab.js';
import { Radicale, vcard, vevent, vtodo, type RadicaleUser } from '../harness/radicale.js';

let radicale: Radicale;
const users: Record<string, RadicaleUser> = Object.fromEntries(
  ['first', 'changes', 'token', 'push', 'api', 'found', 'conflict', 'organizer', 'mark', 'malformed', 'certs', 'down', 'other'].map((n) => [n, { name: n, password: `pw-${n}` }]),
);

beforeAll(async () => {
  radicale = await Radicale.start(Object.values(users), { tls: true });
});
afterAll(async () => {
  await radicale?.stop();
});

/** A calendar, a task list and an address book with a few items each. */
async function seed(u: RadicaleUser, events = 3, tasks = 2, contacts = 2): Promise<void> {
  await radicale.makeCalendar(u, 'calendar');
  await radicale.makeCalendar(u, 'tasks', ['VTODO']);
  await radicale.makeAddressBook(u, 'contacts');
  for (let i = 0; i < events; i++) await radicale.put(u, `/${u.name}/calendar/e${i}.ics`, vevent(`e${i}`, `event ${i}`, { attendees: ['a@example.test'] }));
  for (let i = 0; i < tasks; i++) await radicale.put(u, `/${u.name}/tasks/t${i}.ics`, vtodo(`t${i}`, `task ${i}`));
  for (let i = 0; i < contacts; i++) await radicale.put(u, `/${u.name}/contacts/c${i}.vcf`, vcard(`c${i}`, `Contact ${i}`));
}

async function withLab<T>(u: RadicaleUser, body: (lab: ActLab) => Promise<T>, options: Partial<Parameters<typeof openActLab>[0]> = {}, clock = manualClock()): Promise<T> {
  const lab = await openActLab({ url: radicale.url, mailboxes: [{ id: u.name, user: u.name, password: u.password }], ...options }, clock);
  try {
    return await body(lab);
  } finally {
    await lab.close();
  }
}

const kinds = async (lab: ActLab, id: string) => (await lab.store.act.items(id)).map((i) => `${i.kind} ${i.href}`).sort();

describe('the act direction against Radicale', () => {
  it('pulls calendars, task lists and address books, then a cycle with nothing new is one request per home', async () => {
    const u = users.first!;
    await seed(u);
    await withLab(u, async (lab) => {
      const first = await lab.turn(u.name);
      expect(first.outcome).toMatchObject({ result: 'success', itemsProcessed: 7, itemsFailed: 0, stored: 7 });
      expect(await kinds(lab, u.name)).toEqual([
        'contact /first/contacts/c0.vcf', 'contact /first/contacts/c1.vcf',
        'event /first/calendar/e0.ics', 'event /first/calendar/e1.ics', 'event /first/calendar/e2.ics',
        'task /first/tasks/t0.ics', 'task /first/tasks/t1.ics',
      ]);
      const before = lab.requests();
      const again = await lab.turn(u.name);
      expect(again.outcome).toMatchObject({ result: 'success', itemsProcessed: 0, stored: 0 });
      // Radicale's calendar and address-book homes are the same collection: one PROPFIND.
      expect(lab.requests() - before).toBe(1);
    });
  });

  it('records changes and deletions on the server, each item once with its history of versions', async () => {
    const u = users.changes!;
    await seed(u);
    await withLab(u, async (lab) => {
      await lab.turn(u.name);
      await radicale.put(u, '/changes/calendar/e1.ics', vevent('e1', 'event 1 moved', { attendees: ['a@example.test'] }));
      await radicale.remove(u, '/changes/contacts/c0.vcf');
      await radicale.put(u, '/changes/tasks/t9.ics', vtodo('t9', 'new task'));
      const before = lab.requests();
      const out = await lab.turn(u.name);
      expect(out.outcome).toMatchObject({ result: 'success', itemsProcessed: 3, stored: 2 });
      // One PROPFIND for the home, one sync-collection per changed collection.
      expect(lab.requests() - before).toBe(4);
      const items = await lab.store.act.items(u.name, { includeDeleted: true });
      expect(items.filter((i) => i.href === '/changes/calendar/e1.ics').map((i) => [i.version, i.data.includes('moved')])).toEqual([[2, true]]);
      expect(items.find((i) => i.href === '/changes/contacts/c0.vcf')?.deletedAt).not.toBeNull();
      expect((await lab.store.act.versions(u.name, '/changes/calendar/', '/changes/calendar/e1.ics')).map((v) => v.change)).toEqual(['created', 'updated']);
      expect((await lab.store.act.versions(u.name, '/changes/contacts/', '/changes/contacts/c0.vcf')).map((v) => v.change)).toEqual(['created', 'deleted']);
      expect(items.filter((i) => i.deletedAt === null)).toHaveLength(7);
    });
  });

  it('reads a collection again in full when the server refuses the stored sync token (not a failure)', async () => {
    const u = users.token!;
    await seed(u);
    await withLab(u, async (lab) => {
      await lab.turn(u.name);
      const cal = (await lab.store.act.collections(u.name)).find((c) => c.href === '/token/calendar/')!;
      await lab.store.act.commit({ mailboxId: u.name, collection: { ...cal, syncToken: 'http://radicale.org/ns/sync/forgotten' }, changes: [], failures: [], full: false, at: 1 });
      await radicale.remove(u, '/token/calendar/e2.ics');
      const out = await lab.turn(u.name);
      expect(out.outcome).toMatchObject({ result: 'success' });
      const live = (await lab.store.act.items(u.name, { collection: '/token/calendar/' })).map((i) => i.href);
      expect(live).toEqual(['/token/calendar/e0.ics', '/token/calendar/e1.ics']);
      expect((await lab.store.act.collections(u.name)).find((c) => c.href === '/token/calendar/')?.syncToken).not.toContain('forgotten');
    });
  });

  it('pushes creates, updates and deletes with If-None-Match/If-Match, and keeps both versions of a 412 conflict', async () => {
    const u = users.push!;
    await seed(u, 1, 0, 1);
    await withLab(u, async (lab) => {
      await lab.turn(u.name);
      const created = await lab.queue(u.name, { action: 'create', collection: '/push/calendar/', data: vevent('new-1', 'pushed event') });
      expect(created.push).toMatchObject({ state: 'pending', href: '/push/calendar/new-1.ics' });
      const updated = await lab.queue(u.name, { action: 'update', collection: '/push/contacts/', href: '/push/contacts/c0.vcf', data: vcard('c0', 'Renamed') });
      const deleted = await lab.queue(u.name, { action: 'delete', collection: '/push/calendar/', href: '/push/calendar/e0.ics' });
      const out = await lab.turn(u.name);
      expect(out.outcome).toMatchObject({ result: 'success', itemsFailed: 0 });
      for (const p of [created, updated, deleted]) expect((await lab.store.act.push(p.push.id))?.state).toBe('pushed');
      expect((await radicale.get(u, '/push/calendar/new-1.ics')).body).toContain('pushed event');
      expect((await radicale.get(u, '/push/contacts/c0.vcf')).body).toContain('Renamed');
      expect((await radicale.get(u, '/push/calendar/e0.ics')).status).toBe(404);
      // The pull after the push stored the server's versions.
      expect(await kinds(lab, u.name)).toEqual(['contact /push/contacts/c0.vcf', 'event /push/calendar/new-1.ics']);

      // Someone changes the item on the server after mailsync read it: the local change must not overwrite it.
      await radicale.put(u, '/push/calendar/new-1.ics', vevent('new-1', 'changed on the server'));
      const stale = await lab.queue(u.name, { action: 'update', collection: '/push/calendar/', href: '/push/calendar/new-1.ics', data: vevent('new-1', 'local change') });
      const conflicted = await lab.turn(u.name);
      expect(conflicted.outcome).toMatchObject({ result: 'success', itemsFailed: 1, failedByCode: { act_item_conflict: 1 } });
      const push = (await lab.store.act.push(stale.push.id))!;
      expect(push).toMatchObject({ state: 'conflict', code: 'act_item_conflict' });
      expect(push.data).toContain('local change');
      expect(push.serverData).toContain('changed on the server');
      expect((await radicale.get(u, '/push/calendar/new-1.ics')).body).toContain('changed on the server');
      expect((await lab.store.act.item(u.name, '/push/calendar/', '/push/calendar/new-1.ics'))?.data).toContain('changed on the server');
      // A create over an existing href is a conflict too (If-None-Match: *).
      const dup = await lab.queue(u.name, { action: 'create', collection: '/push/contacts/', href: '/push/contacts/c0.vcf', data: vcard('c0', 'Duplicate') });
      await lab.turn(u.name);
      expect((await lab.store.act.push(dup.push.id))?.state).toBe('conflict');
      expect((await lab.store.mail.listItemFailures(u.name)).map((f) => [f.direction, f.code])).toEqual([['act', 'act_item_conflict'], ['act', 'act_item_conflict']]);
    });
  });

  it('refuses malformed iCalendar at the API with the parse error named', async () => {
    const u = users.api!;
    await seed(u, 0, 0, 0);
    await withLab(u, async (lab) => {
      await lab.turn(u.name);
      await expect(lab.queue(u.name, { action: 'create', collection: '/api/calendar/', data: 'BEGIN:VCALENDAR\r\nnot a line\r\n' })).rejects.toThrow(/^data: not valid iCalendar: /);
      await expect(lab.queue(u.name, { action: 'create', collection: '/api/nowhere/', data: vevent('x', 'x') })).rejects.toThrow(/collection: no collection \/api\/nowhere\//);
      await expect(lab.queue(u.name, { action: 'update', collection: '/api/calendar/', href: '/api/calendar/missing.ics', data: vevent('x', 'x') })).rejects.toThrow(/href: no item/);
    });
  });

  it('does not push an appointment with attendees and no organizer, nor store one pulled that way (item-level)', async () => {
    const u = users.organizer!;
    await seed(u, 2, 0, 0);
    await radicale.put(u, '/organizer/calendar/bad.ics', vevent('bad', 'no organizer', { attendees: ['x@example.test'], organizer: false }));
    await withLab(u, async (lab) => {
      const out = await lab.turn(u.name);
      expect(out.outcome).toMatchObject({ result: 'success', stored: 2, itemsFailed: 1, failedByCode: { appointment_organizer_missing: 1 } });
      const q = await lab.queue(u.name, { action: 'create', collection: '/organizer/calendar/', data: vevent('bad2', 'pushed without organizer', { attendees: ['y@example.test'], organizer: false }) });
      const pushed = await lab.turn(u.name);
      expect(pushed.outcome).toMatchObject({ result: 'success', failedByCode: { appointment_organizer_missing: 1 } });
      expect((await lab.store.act.push(q.push.id))).toMatchObject({ state: 'failed', code: 'appointment_organizer_missing' });
      expect((await radicale.get(u, '/organizer/calendar/bad2.ics')).status).toBe(404);
      expect((await lab.store.mail.listItemFailures(u.name)).map((f) => f.code)).toEqual(['appointment_organizer_missing', 'appointment_organizer_missing']);
      expect((await lab.state(u.name))?.disabled).toBe(false);
    });
  });

  it('fails only the item whose iCalendar is malformed; the rest syncs', async () => {
    const u = users.malformed!;
    await seed(u, 3, 0, 0);
    await radicale.put(u, '/malformed/calendar/broken.ics', vevent('broken', 'to be damaged'));
    // Radicale re-serialises whatever it accepts, so it never serves malformed iCalendar itself:
    // a proxy in front of it damages that one item's text on the way (a parameter without a value).
    const proxy = await damagingProxy(radicale.port, (body) => body.replace('SUMMARY:to be damaged', 'ATTENDEE;CN:mailto:x@example.test'));
    try {
      await withLab(u, async (lab) => {
        const out = await lab.turn(u.name);
        expect(out.outcome).toMatchObject({ result: 'success', stored: 4, itemsFailed: 1, failedByCode: { item_parse_failed: 1 } });
        const failures = await lab.store.mail.listItemFailures(u.name);
        expect(failures.map((f) => [f.direction, f.folder, f.code, f.detail.split(':')[0]])).toEqual([['act', '/malformed/calendar/', 'item_parse_failed', '/malformed/calendar/broken.ics']]);
        // Kept raw, like an email whose header block cannot be read.
        expect((await lab.store.act.item(u.name, '/malformed/calendar/', '/malformed/calendar/broken.ics'))?.data).toContain('ATTENDEE;CN:');
        expect((await lab.store.act.items(u.name)).filter((i) => i.uid !== null)).toHaveLength(3);
      }, { url: proxy.url });
    } finally {
      await proxy.close();
    }
  });
});

/** An HTTP proxy to 127.0.0.1:`port` that rewrites each response body with `damage`. */
async function damagingProxy(port: number, damage: (body: string) => string): Promise<{ url: string; close: () => Promise<void> }> {
  const http = await import('node:http');
  const server = http.createServer((req, res) => {
    const upstream = http.request({ host: '127.0.0.1', port, path: req.url, method: req.method, headers: req.headers }, (up) => {
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => {
        const body = Buffer.from(damage(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(up.statusCode ?? 502, { ...up.headers, 'content-length': String(body.length) });
        res.end(body);
      });
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: own } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${own}/`, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}

describe('act server discovery (RFC 6764)', () => {
  it('finds the homes from the address: _caldavs/_carddavs SRV records, /.well-known, then the principal', async () => {
    const u = users.found!;
    await seed(u, 1, 1, 1);
    const dns = await Dnsmasq.start(['_caldavs._tcp.dav.test', '_carddavs._tcp.dav.test'].map((name) => ({ name, target: '127.0.0.1', port: radicale.tlsPort })));
    try {
      await withLab(u, async (lab) => {
        const check = await lab.testEnable(u.name);
        expect(check.checks).toMatchObject([{ direction: 'act', ok: true, steps: expect.arrayContaining([`located ${radicale.tlsUrl}found/`]) }]);
        expect((await lab.turn(u.name)).outcome).toMatchObject({ result: 'success', stored: 3 });
      }, {
        mailboxes: [{ id: u.name, user: u.name, password: u.password, address: `${u.name}@dav.test` }],
        profiles: { dav: { act: { caFile: radicale.cert.cert, requestTimeoutSeconds: 5 } } },
        extra: { autodiscover: { dnsServers: [dns.server], timeoutSeconds: 2 } },
      });
    } finally {
      await dns.stop();
    }
  });
});

describe('act failures go through the taxonomy, retry and disable policy with direction="act"', () => {
  it('rejected credentials disable ACT at once with credentials_rejected', async () => {
    const u = users.first!;
    await withLab({ ...u, password: 'wrong' }, async (lab) => {
      const out = await lab.turn(u.name);
      expect(out.outcome).toMatchObject({ result: 'failure', code: 'credentials_rejected', disabled: true });
      expect(await lab.state(u.name)).toMatchObject({ disabled: true, lastErrorCode: 'credentials_rejected' });
    });
  });

  it("another user's home is insufficient_permissions (HTTP 403)", async () => {
    const u = users.other!;
    await withLab(u, async (lab) => {
      const out = await lab.turn('other');
      expect(out.outcome).toMatchObject({ result: 'failure', code: 'insufficient_permissions', disabled: true });
    }, { mailboxes: [{ id: 'other', user: u.name, password: u.password, address: 'first@lab.example' }], profiles: { dav: { act: { url: `${radicale.url}{localpart}/` } } } });
  });

  it('an untrusted certificate is secure_connection_failed; with the CA it syncs', async () => {
    const u = users.certs!;
    await seed(u, 1, 0, 0);
    await withLab(u, async (lab) => {
      expect((await lab.turn(u.name)).outcome).toMatchObject({ result: 'failure', code: 'secure_connection_failed', disabled: true });
    }, { url: radicale.tlsUrl });
    await withLab(u, async (lab) => {
      expect((await lab.turn(u.name)).outcome).toMatchObject({ result: 'success', stored: 1 });
    }, { profiles: { dav: { act: { url: radicale.tlsUrl, caFile: radicale.cert.cert } } } });
  });

  it('a stopped server is transient: retried, then disabled once the retry budget is used up', async () => {
    const u = users.down!;
    await seed(u, 1, 0, 0);
    const clock = manualClock();
    await radicale.stopPlain();
    try {
      await withLab(u, async (lab) => {
        const codes: unknown[] = [];
        for (let i = 0; i < 3; i++) {
          const out = await lab.turn(u.name);
          codes.push([out.outcome?.result, out.outcome && 'code' in out.outcome ? out.outcome.code : undefined, out.outcome && 'disabled' in out.outcome ? out.outcome.disabled : undefined]);
          clock.set(clock.now() + 301_000);
        }
        expect(codes).toEqual([['failure', 'connect_failed', false], ['failure', 'connect_failed', false], ['failure', 'connect_failed', true]]);
      }, { organization: { retry: { maxTransientRetries: 2 } } }, clock);
    } finally {
      await radicale.restartPlain();
    }
  });

  it('a foreign ownership mark is configured_in_another_org for act only; "this organization only" takes it over', async () => {
    const u = users.mark!;
    await seed(u, 1, 0, 0);
    await radicale.setProperty(u, '/mark/', 'urn:mailsync:ownership', 'mailsync-owner', 'other-org');
    await withLab(u, async (lab) => {
      expect((await lab.turn(u.name)).outcome).toMatchObject({ result: 'failure', code: 'configured_in_another_org', disabled: true });
      const refused = await lab.testEnable(u.name);
      expect(refused.checks).toMatchObject([{ direction: 'act', ok: false, code: 'configured_in_another_org' }]);
      const taken = await lab.testEnable(u.name, true);
      expect(taken).toMatchObject({ checks: [{ direction: 'act', ok: true }], ownership: 'taken_over' });
      expect(await lab.state(u.name)).toMatchObject({ disabled: false });
      expect((await lab.turn(u.name)).outcome).toMatchObject({ result: 'success', stored: 1 });
      const marked = await radicale.dav(u, 'PROPFIND', '/mark/', '<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:m="urn:mailsync:ownership"><d:prop><m:mailsync-owner/></d:prop></d:propfind>', { depth: '0' });
      expect(marked.body).toContain('>lab</');
    });
  });
});
