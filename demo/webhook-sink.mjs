// The demo's webhook receiver: verifies mailsync's X-Mailsync-Signature as docs/api.md says
// (HMAC-SHA256 of "t.body", timestamp within 5 minutes, constant-time comparison) and prints one
// line per change it receives. Plain Node, no dependencies: a template for a real receiver.
// Env: DEMO_WEBHOOK_PORT (listen on 127.0.0.1), DEMO_WEBHOOK_SECRET.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Buffer } from 'node:buffer';
import { createServer } from 'node:http';

const secret = process.env.DEMO_WEBHOOK_SECRET ?? '';
const port = Number(process.env.DEMO_WEBHOOK_PORT);
const seen = new Set();

function verified(body, header, now = Math.floor(Date.now() / 1000)) {
  const parts = Object.fromEntries(String(header ?? '').split(',').map((p) => p.split('=', 2)));
  if (!/^[0-9a-f]{64}$/.test(parts.v1 ?? '') || !(Math.abs(now - Number(parts.t)) <= 300)) return false;
  const mac = createHmac('sha256', secret).update(`${parts.t}.${body}`).digest();
  return timingSafeEqual(mac, Buffer.from(parts.v1, 'hex'));
}

function describe(change) {
  const d = change.data ?? {};
  switch (change.kind) {
    case 'email_stored': return `email stored in ${change.mailboxId}: "${d.subject ?? ''}" from ${d.from ?? '?'}`;
    case 'direction_disabled': return `${change.mailboxId} ${d.direction} disabled (${d.code ?? 'by ' + d.by})`;
    case 'direction_enabled': return `${change.mailboxId} ${d.direction} enabled`;
    case 'outgoing_state': return `outgoing email ${d.messageId} of ${change.mailboxId} is ${d.state}`;
    case 'act_item_changed':
    case 'act_item_deleted': return `${d.kind} ${d.href} of ${change.mailboxId} ${d.change} (version ${d.version})`;
    default: return `${change.kind} for ${change.mailboxId}`;
  }
}

createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    if (!verified(body, req.headers['x-mailsync-signature'])) {
      process.stderr.write('[webhook-sink] refused a request whose signature does not verify\n');
      res.writeHead(401).end();
      return;
    }
    // Answer first, work after: a slow answer would be retried as a failure.
    res.writeHead(204).end();
    const { change } = JSON.parse(body);
    // At least once: a change may come twice; its seq says so.
    if (seen.has(change.seq)) return;
    seen.add(change.seq);
    process.stderr.write(`[webhook-sink] #${change.seq} ${describe(change)}\n`);
  });
}).listen(port, '127.0.0.1', () => process.stderr.write(`[webhook-sink] listening on http://127.0.0.1:${port}/mailsync\n`));
