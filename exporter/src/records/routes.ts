import { pipeline } from 'node:stream/promises';
import express, { type Response, type Router } from 'express';
import { safeContentType, safeFilename } from './disposition.js';
import type { EmailRecords } from './emails.js';
import type { FailureRecords } from './failures.js';
import { emailsRequest, failuresRequest, positiveId } from './query.js';

export interface RecordRoutesDeps {
  emails: EmailRecords;
  failures: FailureRecords;
}

/** Where a mailbox's synced (incoming) emails live; `/emails` itself is the Pending Send queue. */
const INCOMING = '/mailboxes/:id/emails/incoming';

/**
 * The records API, mounted inside /api after authentication: every route is a read, so the
 * viewer role (the weakest) is enough. Lists are keyset pages `{ items, next }`; raw bytes and
 * attachments stream from the store.
 */
export function recordRoutes({ emails, failures }: RecordRoutesDeps): Router {
  const r = express.Router();
  r.get(INCOMING, async (req, res) => {
    const { filter, cursor, limit } = emailsRequest(req.query);
    res.json(await emails.list(String(req.params.id), filter, cursor, limit));
  });
  r.get(`${INCOMING}/:emailId`, async (req, res) => {
    res.json(await emails.get(String(req.params.id), positiveId(req.params.emailId, 'emailId')));
  });
  r.get(`${INCOMING}/:emailId/raw`, async (req, res) => {
    const id = positiveId(req.params.emailId, 'emailId');
    const { email, stream } = await emails.raw(String(req.params.id), id);
    res.status(200).attachment(`email-${id}.eml`).type('message/rfc822').set('Content-Length', String(email.size));
    await send(stream, res);
  });
  r.get(`${INCOMING}/:emailId/attachments/:index`, async (req, res) => {
    const id = positiveId(req.params.emailId, 'emailId');
    const index = positiveId(req.params.index, 'index', 0);
    await emails.attachment(String(req.params.id), id, index, (info) => {
      // Always a download: a text/html part must never render as a page of mailsync's origin.
      res.status(200).attachment(safeFilename(info.filename, `attachment-${index}`)).set('Content-Type', safeContentType(info.contentType));
      return res;
    });
  });
  r.get('/mailboxes/:id/failures', async (req, res) => {
    const { filter, cursor, limit } = failuresRequest(req.query, false);
    res.json(await failures.list(String(req.params.id), filter, cursor, limit));
  });
  r.get('/failures', async (req, res) => {
    const { filter, cursor, limit, mailbox } = failuresRequest(req.query, true);
    res.json(await failures.list(mailbox, filter, cursor, limit));
  });
  return r;
}

/** A client that goes away mid-download is not an error of ours; anything else after the headers ends the response. */
async function send(stream: NodeJS.ReadableStream, res: Response): Promise<void> {
  try {
    await pipeline(stream, res);
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE') return;
    throw error;
  }
}
