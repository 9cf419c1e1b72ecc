import type { Express } from 'express';
import { parseConfig, type Config } from '../../exporter/src/config/index.js';
import { createApi } from '../../exporter/src/http/api.js';
import { createApp } from '../../exporter/src/http/app.js';
import { createStatusPages } from '../../exporter/src/http/status.js';
import { EmailOperations } from '../../exporter/src/mailboxes/emails.js';
import { MailboxOperations } from '../../exporter/src/mailboxes/operations.js';
import { openStore, type Store } from '../../exporter/src/store/index.js';
import { EmailRecords, FailureRecords, recordRoutes } from '../../exporter/src/records/index.js';

export const OPERATOR_TOKEN = 'operator-token-0123456789';
export const VIEWER_TOKEN = 'viewer-token-0123456789';

const YAML = `
organization: { id: acme, processOnlyApproved: true }
api: { tokens: [{ name: alice, role: operator, token: "\${T}" }, { name: vera, role: viewer, token: "\${V}" }] }
profiles: [{ id: plain, incoming: { host: imap.example.com }, outgoing: { host: smtp.example.com } }]
mailboxes:
  - { id: ann, address: ann@example.com, profile: plain, outgoing: true, credentials: { username: ann, password: "\${T}" } }
`;

/** The whole HTTP surface (API and status pages) over an in-memory store, as the service wires it. */
/** `internalErrors` collects what the app answered 500 for: a test of hostile input expects none. */
export async function openTestApp(): Promise<{ app: Express; store: Store; config: Config; internalErrors: unknown[] }> {
  const internalErrors: unknown[] = [];
  const config: Config = parseConfig(YAML, '/etc/mailsync/mailsync.yaml', { env: { T: OPERATOR_TOKEN, V: VIEWER_TOKEN } });
  const store = await openStore({ path: ':memory:' });
  const clock = { now: () => 1_800_000_000_000 };
  const operations = new MailboxOperations({ config: () => config, store, clock, wake: () => undefined, startTest: () => undefined, disconnect: () => undefined });
  const emails = new EmailOperations({ config: () => config, store, clock, wakeOutgoing: () => undefined });
  const app = createApp({
    metrics: { contentType: () => 'text/plain', scrape: async () => '' },
    notReadyReason: () => undefined,
    api: createApi({ operations, emails, tokens: () => config.api.tokens, maxEmailBytes: () => config.sync.outgoing.maxEmailBytes,
      records: recordRoutes({ emails: new EmailRecords({ store, config: () => config }), failures: new FailureRecords(store, () => config) }) }),
    status: createStatusPages({ config: () => config, store, clock, operations }),
    onError: (error) => internalErrors.push(error),
  });
  return { app, store, config, internalErrors };
}
