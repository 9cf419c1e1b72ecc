import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Express } from 'express';
import type { Store } from '../store/index.js';
import { OPERATOR_TOKEN, openTestApp } from '../../../test/support/app.js';

let store: Store;
let app: Express;

beforeEach(async () => {
  ({ app, store } = await openTestApp());
});
afterEach(() => store.close());

const auth = { authorization: `Bearer ${OPERATOR_TOKEN}` };
/** No install path, no stack frame, no HTML from Express's default handler. */
const noInternals = (text: string) => {
  expect(text).not.toMatch(/node_modules|\/work\/|at \w+ \(|<pre>|Error: /);
};

describe('every error, from any layer, is mailsync\'s own answer', () => {
  it('a malformed percent-encoding in an API path is a JSON 400', async () => {
    const res = await request(app).get('/api/mailboxes/%E0%A4%A').set(auth);
    expect(res.status).toBe(400);
    expect(res.type).toBe('application/json');
    expect(res.body.error).toMatch(/percent-encoding/);
    noInternals(res.text);
  });

  it('a malformed percent-encoding on the status page is a plain 400 page', async () => {
    const res = await request(app).get('/mailboxes/%E0%A4%A');
    expect(res.status).toBe(400);
    expect(res.type).toBe('text/plain');
    noInternals(res.text);
  });

  it('a body that claims gzip and is not, or an unknown Content-Encoding, is a JSON 4xx', async () => {
    const notGzip = await request(app).post('/api/mailboxes/ann/approve').set(auth)
      .set('content-type', 'application/json').set('content-encoding', 'gzip').send('{"comment":"x"}');
    expect(notGzip.status).toBe(400);
    expect(notGzip.body.error).toMatch(/gzip/);
    noInternals(notGzip.text);
    const unknown = await request(app).post('/api/mailboxes/ann/approve').set(auth)
      .set('content-type', 'application/json').set('content-encoding', 'br2').send('{}');
    expect(unknown.status).toBe(415);
    expect(unknown.body.error).toMatch(/Content-Encoding "br2"/);
    noInternals(unknown.text);
  });

  it('a real gzip body is read', async () => {
    const res = await request(app).post('/api/mailboxes/ann/approve').set(auth)
      .set('content-type', 'application/json').set('content-encoding', 'gzip')
      // As bytes: superagent would otherwise serialise the Buffer as JSON.
      // (superagent's type says string; it writes whatever the serialiser returns)
      .serialize(((body: Buffer) => body) as unknown as (body: unknown) => string).send(gzipSync('{"comment":"zipped"}'));
    expect(res.status).toBe(200);
    expect((await store.lifecycle.get('ann')).approval).toBe('approved');
  });
});

describe('mutations take JSON objects only', () => {
  it('refuses a body that is not application/json, and changes nothing', async () => {
    const res = await request(app).post('/api/mailboxes/ann/approve').set(auth).set('content-type', 'text/plain').send('approve me');
    expect(res.status).toBe(415);
    expect(res.body.error).toMatch(/application\/json/);
    expect((await store.lifecycle.get('ann')).approval).toBe('empty');
  });

  it('accepts an empty body where the route needs none', async () => {
    const res = await request(app).post('/api/mailboxes/ann/approve').set(auth);
    expect(res.status).toBe(200);
  });

  it.each([['"approve me"', 'a string'], ['null', 'null'], ['[1]', 'a list']])('calls %s JSON, but not an object', async (body, what) => {
    const res = await request(app).post('/api/mailboxes/ann/approve').set(auth).set('content-type', 'application/json').send(body);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe(`body: must be a JSON object, not ${what}`);
    expect((await store.lifecycle.get('ann')).approval).toBe('empty');
  });

  it('still calls broken JSON broken', async () => {
    const res = await request(app).post('/api/mailboxes/ann/approve').set(auth).set('content-type', 'application/json').send('{"comment":');
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/^body is not valid JSON/);
  });
});

describe('strict values', () => {
  it.each(['Zm9vY', 'Zm9v=', 'Zm=9v', 'Zm9v!!!!'])('refuses the attachment base64 %s, and queues nothing', async (contentBase64) => {
    const res = await request(app).post('/api/mailboxes/ann/emails').set(auth)
      .send({ to: 'x@remote.example', subject: 's', text: 't', attachments: [{ filename: 'a.txt', contentBase64 }] });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/attachments\.0\.contentBase64: must be base64/);
    expect(await store.outgoing.list('ann', undefined, 10)).toEqual([]);
  });

  it('takes padded and line-wrapped base64', async () => {
    const res = await request(app).post('/api/mailboxes/ann/emails').set(auth)
      .send({ to: 'x@remote.example', subject: 's', text: 't', attachments: [{ filename: 'a.txt', contentBase64: 'Zm9v\r\nYmFy\r\nYg==' }] });
    expect(res.status).toBe(202);
  });

  it('names a query parameter given twice instead of reading NaN', async () => {
    const res = await request(app).get('/api/mailboxes?page=1&page=2').set(auth);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('query: page is given more than once');
  });
});
