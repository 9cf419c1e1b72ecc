import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Clock } from '../clock.js';
import type { Webhook } from '../config/index.js';
import type { Change, WebhookDelivery } from '../store/index.js';
import { SIGNATURE_HEADER, signPayload } from './signature.js';

export type PostOutcome = { ok: true; status: number } | { ok: false; status: number | null; error: string };

/** What a receiver gets: the change as the feed shows it, and which delivery this is. */
export function deliveryBody(webhook: Webhook, delivery: WebhookDelivery, change: Change): string {
  return JSON.stringify({
    delivery: delivery.id, webhook: webhook.id, attempt: delivery.attempts + 1,
    change: { cursor: String(change.seq), seq: change.seq, kind: change.kind, mailboxId: change.mailboxId, at: change.at, data: change.data },
  });
}

/**
 * Kept-alive connections per webhook, at most its `concurrency`. node:http rather than fetch:
 * measured here, fetch (undici) posted 200-290 small requests a second to a local receiver where
 * node:http with a keep-alive agent posted 950 (docs/decisions.md, "Webhook delivery").
 */
export function webhookAgent(webhook: Webhook): HttpAgent {
  const options = { keepAlive: true, maxSockets: webhook.concurrency };
  return webhook.url.startsWith('https:') ? new HttpsAgent(options) : new HttpAgent(options);
}

/**
 * One POST of one delivery. Any 2xx is success; a redirect is a failure (following it would send
 * the signed payload somewhere the config does not name). No answer within `timeoutSeconds` is a
 * failure too: a slow receiver is retried later rather than holding a worker slot.
 */
export async function postDelivery(
  webhook: Webhook, delivery: WebhookDelivery, change: Change, clock: Clock, stop: AbortSignal, agent: HttpAgent,
): Promise<PostOutcome> {
  const body = deliveryBody(webhook, delivery, change);
  const signature = signPayload(webhook.secret.reveal(), body, Math.floor(clock.now() / 1_000));
  const timeout = AbortSignal.timeout(webhook.timeoutSeconds * 1_000);
  const send = webhook.url.startsWith('https:') ? httpsRequest : httpRequest;
  try {
    const status = await new Promise<number>((resolve, reject) => {
      const req = send(webhook.url, {
        method: 'POST', agent, signal: AbortSignal.any([stop, timeout]),
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'mailsync-webhooks',
          [SIGNATURE_HEADER]: signature,
          'x-mailsync-event': change.kind,
          'x-mailsync-delivery': String(delivery.id),
        },
      }, (res: IncomingMessage) => {
        // Read the answer to the end so the connection goes back to the pool; it is not used.
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
    if (status >= 200 && status < 300) return { ok: true, status };
    return { ok: false, status, error: `the receiver answered HTTP ${status}` };
  } catch (error) {
    if (timeout.aborted) return { ok: false, status: null, error: `no answer within ${webhook.timeoutSeconds} s` };
    if (stop.aborted) return { ok: false, status: null, error: 'mailsync is stopping' };
    const e = error as NodeJS.ErrnoException;
    return { ok: false, status: null, error: `request failed: ${e.code ?? e.message}` };
  }
}
