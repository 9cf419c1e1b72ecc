import fc from 'fast-check';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Express } from 'express';
import type { Store } from '../store/index.js';
import { OPERATOR_TOKEN, openTestApp } from '../../../test/support/app.js';

let app: Express;
let store: Store;
let internalErrors: unknown[];
beforeAll(async () => {
  ({ app, store, internalErrors } = await openTestApp());
});
afterAll(() => store.close());

const auth = { authorization: `Bearer ${OPERATOR_TOKEN}` };
const MUTATIONS = ['/api/mailboxes/ann/approve', '/api/mailboxes/ann/reject', '/api/mailboxes/ann/test-enable', '/api/mailboxes/ann/disable', '/api/mailboxes/ann/emails'];
const QUERIES = ['/api/mailboxes', '/api/mailboxes/ann/emails'];

/** Bodies near the real ones (their keys, any values) and anything JSON can be. */
const keys = fc.constantFrom('comment', 'thisOrganizationOnly', 'sendTestMessage', 'directions', 'reason', 'to', 'cc', 'bcc', 'subject', 'text', 'html', 'attachments', 'filename', 'contentBase64', 'contentType');
const bodies = fc.oneof(fc.jsonValue(), fc.dictionary(keys, fc.jsonValue(), { maxKeys: 6 }));
const params = fc.dictionary(fc.constantFrom('state', 'health', 'profile', 'approval', 'q', 'page', 'pageSize', 'limit', 'x'), fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 3 })), { maxKeys: 4 });

/** The API's documented answer to a request it cannot carry out: a 4xx with a JSON { error }. */
function expectDocumented(res: request.Response): void {
  if (res.status >= 400) {
    expect(res.status).toBeLessThan(500);
    expect(typeof res.body.error).toBe('string');
  }
}

describe('every API body and query schema, on any input', () => {
  it('answers a JSON body with success or a 4xx { error }, never a 500', async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom(...MUTATIONS), bodies, async (route, body) => {
      const res = await request(app).post(route).set(auth).set('content-type', 'application/json').send(JSON.stringify(body));
      expectDocumented(res);
    }), { numRuns: 300 });
    expect(internalErrors).toEqual([]);
  });

  it('answers any query string the same way', async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom(...QUERIES), params, async (route, query) => {
      const res = await request(app).get(route).set(auth).query(query);
      expectDocumented(res);
    }), { numRuns: 300 });
    expect(internalErrors).toEqual([]);
  });
});
