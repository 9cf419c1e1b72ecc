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
 * One POST of one delivery. Any 2xx is success; a redirect is a failure (following it would send
 * the signed payload somewhere the config does not name). No answer within `timeoutSeconds` is a
 * failure too: a slow receiver is retried later rather than holding a worker slot.
 */
export async function postDelivery(webhook: Webhook, delivery: WebhookDelivery, change: Change, clock: Clock, stop: AbortSignal): Promise<PostOutcome> {
  const body = deliveryBody(webhook, delivery, change);
  const signature = signPayload(webhook.secret.reveal(), body, Math.floor(clock.now() / 1_000));
  const timeout = AbortSignal.timeout(webhook.timeoutSeconds * 1_000);
  try {
    const res = await fetch(webhook.url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.any([stop, timeout]),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'mailsync-webhooks',
        [SIGNATURE_HEADER]: signature,
        'x-mailsync-event': change.kind,
        'x-mailsync-delivery': String(delivery.id),
      },
      body,
    });
    // Read the answer to the end so the connection goes back to the pool; it is not used.
    await res.arrayBuffer().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
    return { ok: false, status: res.status, error: `the receiver answered HTTP ${res.status}` };
  } catch (error) {
    if (timeout.aborted) return { ok: false, status: null, error: `no answer within ${webhook.timeoutSeconds} s` };
    if (stop.aborted) return { ok: false, status: null, error: 'mailsync is stopping' };
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { ok: false, status: null, error: `request failed: ${cause?.code ?? cause?.message ?? (error as Error).message}` };
  }
}
