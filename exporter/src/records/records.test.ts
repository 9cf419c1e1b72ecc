import { createHash } from 'node:crypto';
import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { openTestApp, OPERATOR_TOKEN, VIEWER_TOKEN } from '../../../test/support/app.js';
import { hostileAttachmentMessage, offeredFilename } from '../../../test/support/records-mail.js';
import { parseHeaderBlock } from '../incoming/headers.js';
import { hasAttachmentParts } from '../incoming/attachments.js';
import type { Store } from '../store/index.js';
import { EmailRecords } from './emails.js';
import { encodeCursor } from './cursor.js';

type App = Awaited<ReturnType<typeof openTestApp>>;
const BASE = '/api/mailboxes/ann/emails/incoming';

function message(n: number, extra: { attachment?: boolean; subject?: string; from?: string } = {}): Buffer {
  const head = `Message-ID: <m${n}@lab.example>\r\nFrom: ${extra.from ?? `sender${n % 3}@lab.example`}\r\nTo: ann@example.com\r\nSubject: ${extra.subject ?? `Message ${n}`}\r\nMIME-Version: 1.0\r\n`;
  if (!extra.attachment) return Buffer.from(`${head}Content-Type: text/plain\r\n\r\nBody ${n}\r\n`);
  return Buffer.from(`${head}Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nBody ${n}\r\n--b\r\n` +
    `Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="doc${n}.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.from(`pdf ${n}`).toString('base64')}\r\n--b--\r\n`);
}

async function store(s: Store, folder: string, raws: Buffer[], at: number, firstUid = 1, failures: { uid: number; code: string }[] = []) {
  await s.mail.commitBatch({
    mailboxId: 'ann', folder, uidvalidity: 1, lastUid: firstUid + raws.length, at,
    emails: raws.map((raw, i) => ({ uid: firstUid + i, raw, sha256: createHash('sha256').update(raw).digest(), headers: parseHeaderBlock(raw).headers, hasAttachments: hasAttachmentParts(raw) })),
    failures: failures.map((f) => ({ ...f, detail: 'test', size: null })),
  });
}

const get = (t: App, path: string, token = VIEWER_TOKEN) => request(t.app).get(path).set('authorization', `Bearer ${token}`);

describe('the records API over the store', () => {
  let t: App;
  beforeEach(async () => {
    t = await openTestApp();
    await store(t.store, 'INBOX', Array.from({ length: 9 }, (_, i) => message(i + 1, { attachment: i % 3 === 0 })), 1_000);
    await store(t.store, 'Archive', [message(100, { subject: 'Quarterly 50% report', from: 'Boss <boss@corp.example>' })], 5_000);
  });

  it('pages every email once, in storage order, and resumes from the last cursor for what arrived since', async () => {
    const seen: number[] = [];
    let cursor: string | undefined;
    for (;;) {
      const res = await get(t, `${BASE}?limit=4${cursor ? `&cursor=${cursor}` : ''}`).expect(200);
      seen.push(...(res.body.items as { id: number }[]).map((e) => e.id));
      cursor = res.body.next;
      if (!res.body.more) break;
    }
    expect(seen).toHaveLength(10);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    await store(t.store, 'INBOX', [message(200)], 9_000, 20);
    const later = await get(t, `${BASE}?cursor=${cursor}`).expect(200);
    expect(later.body.items.map((e: { messageId: string }) => e.messageId)).toEqual(['<m200@lab.example>']);
  });

  it('filters by folder, time, sender, subject and attachments', async () => {
    const ids = async (q: string) => ((await get(t, `${BASE}?${q}`).expect(200)).body.items as { messageId: string }[]).map((e) => e.messageId);
    expect(await ids('folder=Archive')).toEqual(['<m100@lab.example>']);
    expect(await ids(`receivedSince=${new Date(2_000).toISOString()}`)).toEqual(['<m100@lab.example>']);
    expect(await ids(`receivedUntil=${new Date(2_000).toISOString()}`)).toHaveLength(9);
    expect(await ids('from=BOSS@corp')).toEqual(['<m100@lab.example>']);
    // A % is the character, not a wildcard.
    expect(await ids(`subject=${encodeURIComponent('50%')}`)).toEqual(['<m100@lab.example>']);
    expect(await ids(`subject=${encodeURIComponent('5%')}`)).toEqual([]);
    expect(await ids('hasAttachments=true')).toEqual(['<m1@lab.example>', '<m4@lab.example>', '<m7@lab.example>']);
    expect(await ids('hasAttachments=false&folder=INBOX')).toHaveLength(6);
  });

  it('refuses a cursor that is not one, naming the parameter; a failures cursor is not an emails cursor', async () => {
    for (const bad of ['nope!', 'bm9wZQ', encodeCursor('failures', 3), Buffer.from('emails:0').toString('base64url'), 'x'.repeat(300)]) {
      const res = await get(t, `${BASE}?cursor=${encodeURIComponent(bad)}`).expect(400);
      expect(res.body.error).toMatch(/^cursor: /);
    }
    expect((await get(t, `${BASE}?limit=501`).expect(400)).body.error).toMatch(/^limit: /);
    expect((await get(t, `${BASE}?hasAttachments=yes`).expect(400)).body.error).toMatch(/^hasAttachments: /);
    expect((await get(t, `${BASE}?receivedSince=yesterday`).expect(400)).body.error).toMatch(/^receivedSince: /);
    expect((await get(t, `${BASE}?limit=1&limit=2`).expect(400)).body.error).toMatch(/limit is given more than once/);
  });

  it('needs a token: any role reads, none is 401; unknown mailbox or email is 404', async () => {
    await request(t.app).get(BASE).expect(401);
    await request(t.app).get('/api/failures').expect(401);
    await get(t, BASE, OPERATOR_TOKEN).expect(200);
    await get(t, '/api/mailboxes/nobody/emails/incoming').expect(404);
    await get(t, `${BASE}/99999`).expect(404);
    expect((await get(t, `${BASE}/abc`).expect(400)).body.error).toMatch(/^emailId: /);
  });

  it('serves one email with its parsed body, and the raw bytes as message/rfc822, byte for byte', async () => {
    const list = await get(t, `${BASE}?hasAttachments=true&limit=1`).expect(200);
    const id = list.body.items[0].id as number;
    const one = await get(t, `${BASE}/${id}`).expect(200);
    expect(one.body).toMatchObject({ messageId: '<m1@lab.example>', folders: ['INBOX'], hasAttachments: true, body: { text: expect.stringContaining('Body 1'), truncated: false } });
    expect(one.body.body.attachments).toEqual([{ index: 0, filename: 'doc1.pdf', contentType: 'application/pdf', size: 5, related: false }]);
    const raw = await get(t, `${BASE}/${id}/raw`).buffer(true).parse((res, cb) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => cb(null, Buffer.concat(chunks)));
    }).expect(200);
    expect(raw.headers['content-type']).toBe('message/rfc822');
    expect(raw.headers['x-content-type-options']).toBe('nosniff');
    expect((raw.body as Buffer).equals(message(1, { attachment: true }))).toBe(true);
    const pdf = await get(t, `${BASE}/${id}/attachments/0`).expect(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(offeredFilename(pdf.headers['content-disposition'] as string)).toBe('doc1.pdf');
    await get(t, `${BASE}/${id}/attachments/1`).expect(404);
  });

  it('offers hostile attachment names safely: no path, no control characters, no header split, never inline html', async () => {
    const { raw, expected } = hostileAttachmentMessage();
    await store(t.store, 'INBOX', [raw], 7_000, 50);
    const id = ((await get(t, `${BASE}?subject=Invoice`).expect(200)).body.items[0] as { id: number }).id;
    const listed = (await get(t, `${BASE}/${id}`).expect(200)).body.body.attachments as { index: number }[];
    expect(listed).toHaveLength(expected.length);
    for (const [index, name] of expected.entries()) {
      const res = await get(t, `${BASE}/${id}/attachments/${index}`).expect(200);
      const header = res.headers['content-disposition'] as string;
      expect(header, name).toMatch(/^attachment; /);
      expect([...header].some((c) => c.charCodeAt(0) < 0x20)).toBe(false);
      expect(offeredFilename(header)).toBe(name);
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
    const html = await get(t, `${BASE}/${id}/attachments/4`).expect(200);
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    expect(html.headers['content-disposition']).toMatch(/^attachment; /);
    expect(html.headers['content-security-policy']).toContain("default-src 'none'");
  });

  it('parses an email once, however often it is read', async () => {
    const parsed: number[] = [];
    const records = new EmailRecords({ store: t.store, config: () => t.config, onParse: (id) => parsed.push(id) });
    const id = (await records.list('ann', {}, undefined, 1)).items[0]!.id;
    await Promise.all([records.get('ann', id), records.get('ann', id)]);
    await records.get('ann', id);
    expect(parsed).toEqual([id]);
  });
});

describe('item failures', () => {
  it('lists them per mailbox and for the fleet, newest first, by code and time, paged', async () => {
    const t = await openTestApp();
    await store(t.store, 'INBOX', [message(1)], 1_000, 1, [{ uid: 1, code: 'item_parse_failed' }, { uid: 9, code: 'item_too_large' }]);
    await store(t.store, 'INBOX', [], 60_000, 10, [{ uid: 10, code: 'no_correlation_match' }, { uid: 11, code: 'item_too_large' }]);
    const codes = async (path: string) => ((await get(t, path).expect(200)).body.items as { code: string; uid: number }[]).map((f) => `${f.code}:${f.uid}`);
    expect(await codes('/api/failures')).toEqual(['item_too_large:11', 'no_correlation_match:10', 'item_too_large:9', 'item_parse_failed:1']);
    expect(await codes('/api/failures?code=item_too_large')).toEqual(['item_too_large:11', 'item_too_large:9']);
    expect(await codes(`/api/mailboxes/ann/failures?since=${new Date(30_000).toISOString()}`)).toEqual(['item_too_large:11', 'no_correlation_match:10']);
    expect(await codes(`/api/failures?until=${new Date(30_000).toISOString()}&code=item_parse_failed`)).toEqual(['item_parse_failed:1']);
    const first = await get(t, '/api/failures?limit=3').expect(200);
    expect(first.body.more).toBe(true);
    expect(await codes(`/api/failures?limit=3&cursor=${first.body.next}`)).toEqual(['item_parse_failed:1']);
    const parse = (await get(t, '/api/failures?code=item_parse_failed').expect(200)).body.items[0];
    expect(parse).toMatchObject({ mailboxId: 'ann', folder: 'INBOX', subject: 'Message 1', messageId: '<m1@lab.example>', count: 1 });
    expect((await get(t, '/api/failures?code=NOT-A-CODE').expect(400)).body.error).toMatch(/^code: /);
    expect((await get(t, `/api/failures?cursor=${encodeCursor('emails', 1)}`).expect(400)).body.error).toMatch(/^cursor: /);

    const page = await request(t.app).get('/failures?code=item_too_large').expect(200);
    expect(page.text).toContain('Incoming emails failed to sync');
    expect(page.text.match(/<code>item_too_large<\/code>/g)).toHaveLength(2);
    expect((await request(t.app).get('/failures?since=garbage').expect(400)).text).toContain('since: must be an RFC 3339 time');
  });
});
