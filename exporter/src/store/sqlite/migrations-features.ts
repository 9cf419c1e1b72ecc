/**
 * Migrations 5 onwards, the schema of the features built on the first four (records API, POP3,
 * appointments/contacts/tasks, OAuth2 tokens, the change feed, pack files); continued from
 * MIGRATIONS in migrations.ts, in order. Never edit a migration that has shipped: add the next one.
 */
export const FEATURE_MIGRATIONS: readonly string[] = [
  // 5: the records API and the failures view. Whether an email has attachments (found at ingest;
  // NULL for emails stored before, until the API parses them once), keyset paging of a mailbox's
  // emails, and what the failures view shows of an item: its subject and Message-ID (a message too
  // large to download has no stored email to take them from).
  `
  ALTER TABLE email ADD COLUMN has_attachments INTEGER;
  CREATE INDEX email_mailbox_order ON email (mailbox_id, id);
  ALTER TABLE item_failure ADD COLUMN subject TEXT;
  ALTER TABLE item_failure ADD COLUMN message_id TEXT;
  CREATE INDEX item_failure_recent ON item_failure (last_seen_at);
  CREATE INDEX item_failure_code ON item_failure (code, last_seen_at);
  `,
  // 6: POP3 leave-on-server sync: the UIDLs already stored, per mailbox. The id is what the email's
  // location and item failures carry as their UID (folder INBOX, UIDVALIDITY 0), so POP3 emails go
  // through the same insert as IMAP ones. AUTOINCREMENT: a pruned UIDL's id is never reused.
  `
  CREATE TABLE pop3_uidl (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    mailbox_id TEXT NOT NULL,
    uidl TEXT NOT NULL,
    seen_at INTEGER NOT NULL,
    UNIQUE (mailbox_id, uidl)
  ) STRICT;
  `,
  // 7: appointments, contacts and tasks (the act direction): four new tables, nothing existing changed.
  `
  -- C: appointments, contacts and tasks (the act direction): collections with their sync state,
  -- items once per (mailbox, collection, href) with their ETag, every version, and queued pushes.
  CREATE TABLE act_collection (
    mailbox_id TEXT NOT NULL,
    href TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('calendar', 'addressbook')),
    name TEXT,
    sync_token TEXT,
    ctag TEXT,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (mailbox_id, href)
  ) STRICT;
  CREATE TABLE act_item (
    mailbox_id TEXT NOT NULL,
    collection TEXT NOT NULL,
    href TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('event', 'task', 'contact')),
    uid TEXT,
    etag TEXT NOT NULL,
    data TEXT NOT NULL,
    version INTEGER NOT NULL,
    deleted_at INTEGER,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (mailbox_id, collection, href)
  ) STRICT;
  CREATE TABLE act_item_version (
    mailbox_id TEXT NOT NULL,
    collection TEXT NOT NULL,
    href TEXT NOT NULL,
    version INTEGER NOT NULL,
    change TEXT NOT NULL CHECK (change IN ('created', 'updated', 'deleted')),
    etag TEXT,
    data TEXT,
    at INTEGER NOT NULL,
    PRIMARY KEY (mailbox_id, collection, href, version)
  ) STRICT;
  CREATE TABLE act_push (
    id INTEGER PRIMARY KEY,
    mailbox_id TEXT NOT NULL,
    collection TEXT NOT NULL,
    href TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('create', 'update', 'delete')),
    data TEXT,
    base_etag TEXT,
    requested_by TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'pushed', 'conflict', 'failed')),
    code TEXT,
    message TEXT,
    server_etag TEXT,
    server_data TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX act_push_mailbox ON act_push (mailbox_id, state, id);
  `,
  // 8: rotated OAuth2 refresh tokens, one per login (a hash of token URL, client and subject),
  // AES-256-GCM sealed by auth/sealed.ts: the file never holds a token in clear.
  `
  CREATE TABLE oauth_refresh_token (
    login_key TEXT PRIMARY KEY,
    sealed BLOB NOT NULL,
    initial_fingerprint TEXT NOT NULL,
    rotated_at INTEGER NOT NULL
  ) STRICT;
  `,
  // 9: the change feed (one row per change, written in the change's own transaction; the
  // AUTOINCREMENT sequence never reuses a number, even after the newest rows are pruned) and the
  // webhook outbox (one row per webhook and change, written in the same transaction).
  `
  CREATE TABLE change_feed (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    mailbox_id TEXT NOT NULL,
    ref_id INTEGER,
    data TEXT NOT NULL
  ) STRICT;
  CREATE INDEX change_feed_at ON change_feed (at);

  CREATE TABLE webhook_delivery (
    id INTEGER PRIMARY KEY,
    webhook_id TEXT NOT NULL,
    -- No foreign key: a delivery outlives nothing it needs, pruning keeps the changes it refers to.
    seq INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    next_attempt_at INTEGER,
    last_attempt_at INTEGER,
    last_status INTEGER,
    last_error TEXT,
    delivered_at INTEGER,
    UNIQUE (webhook_id, seq)
  ) STRICT;
  CREATE INDEX webhook_delivery_due ON webhook_delivery (webhook_id, state, next_attempt_at);
  CREATE INDEX webhook_delivery_seq ON webhook_delivery (seq);
  `,
  // 10: raw message bytes in append-only pack files next to the store (store/packs/). A row points
  // at (pack, offset, size) and keeps an empty raw; rows written before keep their bytes inline and
  // are read as before (nothing is moved). A pack row is committed before its file is created.
  `
  CREATE TABLE pack (
    id INTEGER PRIMARY KEY,
    created_at INTEGER NOT NULL
  ) STRICT;
  ALTER TABLE email ADD COLUMN pack_id INTEGER REFERENCES pack (id);
  ALTER TABLE email ADD COLUMN pack_offset INTEGER;
  CREATE INDEX email_pack ON email (pack_id, pack_offset, size) WHERE pack_id IS NOT NULL;
  `,
];
