// The demo's mail generator: every few seconds, a new message into a random healthy mailbox over
// IMAP (imapflow, as mailsync itself uses). Environment: DEMO_IMAP_HOST, DEMO_IMAP_PORT,
// DEMO_PASSWORD, DEMO_USERS (comma-separated), DEMO_INTERVAL_MS.
import { ImapFlow } from 'imapflow';

const host = process.env.DEMO_IMAP_HOST ?? '127.0.0.1';
const port = Number(process.env.DEMO_IMAP_PORT ?? 143);
const users = (process.env.DEMO_USERS ?? 'sales,support,billing,hr,legal,ops').split(',');
const interval = Number(process.env.DEMO_INTERVAL_MS ?? 5_000);
const subjects = ['Invoice', 'Quarterly report', 'Meeting notes', 'Order confirmation', 'Support request', 'Contract draft'];
let n = 0;
let stopping = false;
process.on('SIGTERM', () => (stopping = true)).on('SIGINT', () => (stopping = true));

while (!stopping) {
  const user = users[n % users.length];
  n += 1;
  const client = new ImapFlow({ host, port, secure: false, doSTARTTLS: false, auth: { user, pass: process.env.DEMO_PASSWORD ?? 'demo-password' }, logger: false });
  try {
    await client.connect();
    const subject = `${subjects[n % subjects.length]} #${n}`;
    await client.append('INBOX', `From: partner${n % 7}@customers.example\r\nTo: ${user}@demo.example\r\nSubject: ${subject}\r\nDate: ${new Date().toUTCString()}\r\nMessage-ID: <demo-${Date.now()}-${n}@customers.example>\r\n\r\nHello ${user}, this is demo message ${n}.\r\n`);
    await client.logout();
  } catch (error) {
    console.error(`generator: ${user}: ${error.message}`);
    client.close();
  }
  await new Promise((r) => setTimeout(r, interval));
}
