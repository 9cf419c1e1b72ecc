import type pg from 'pg';

/**
 * Numbered PostgreSQL migrations: index + 1 is the version recorded in `mailsync_schema`. The first
 * is the SQLite schema as of its migration 10, written once for PostgreSQL (bigint epoch
 * milliseconds as there, bytea for bytes; no pack tables: raw bytes stay in the row, see
 * docs/decisions.md). Never edit a migration that has shipped: add the next one.
 */
export const PG_MIGRATIONS: readonly string[] = [
  // 1: everything the SQLite store holds, plus the feed's commit-time counter.
  `
  CREATE TABLE mailbox_direction_state (
    mailbox_id text NOT NULL,
    direction text NOT NULL CHECK (direction IN ('incoming', 'outgoing', 'act')),
    status text NOT NULL DEFAULT 'not_run' CHECK (status IN ('not_run', 'success', 'failure')),
    last_run_started_at bigint, last_run_finished_at bigint, last_success_at bigint, last_failure_at bigint,
    last_error_code text, last_error_message text,
    consecutive_failures bigint NOT NULL DEFAULT 0,
    items_processed_total bigint NOT NULL DEFAULT 0,
    items_failed_total bigint NOT NULL DEFAULT 0,
    disabled integer NOT NULL DEFAULT 0,
    disabled_code text, disabled_reason text, disabled_by text, disabled_at bigint,
    next_attempt_at bigint, last_error_class text, last_error_scope text,
    runs_success_total bigint NOT NULL DEFAULT 0,
    runs_failure_total bigint NOT NULL DEFAULT 0,
    runs_aborted_total bigint NOT NULL DEFAULT 0,
    retries_total bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (mailbox_id, direction)
  );
  CREATE TABLE folder_cursor (
    mailbox_id text NOT NULL, folder text NOT NULL, uidvalidity bigint NOT NULL, last_uid bigint NOT NULL,
    updated_at bigint NOT NULL, PRIMARY KEY (mailbox_id, folder)
  );
  -- One row per distinct message of a mailbox (SHA-256 of the bytes is its identity); the bytes in
  -- the row, so several runners need no shared volume.
  CREATE TABLE email (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mailbox_id text NOT NULL, content_sha256 bytea NOT NULL,
    message_id text, from_addr text, to_addrs text, cc_addrs text, subject text, sent_at bigint,
    size bigint NOT NULL, raw bytea NOT NULL, first_seen_at bigint NOT NULL, has_attachments integer,
    UNIQUE (mailbox_id, content_sha256)
  );
  -- Stored out of line uncompressed: mail is mostly compressed already, and substring() on an
  -- uncompressed TOAST value reads only the slices asked for (openRaw streams in slices).
  ALTER TABLE email ALTER COLUMN raw SET STORAGE EXTERNAL;
  CREATE INDEX email_message_id ON email (mailbox_id, message_id);
  CREATE INDEX email_mailbox_order ON email (mailbox_id, id);
  CREATE TABLE email_location (
    mailbox_id text NOT NULL, folder text NOT NULL, uidvalidity bigint NOT NULL, uid bigint NOT NULL,
    email_id bigint NOT NULL REFERENCES email (id),
    PRIMARY KEY (mailbox_id, folder, uidvalidity, uid)
  );
  CREATE INDEX email_location_email ON email_location (email_id);
  CREATE TABLE item_failure (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mailbox_id text NOT NULL, direction text NOT NULL, folder text NOT NULL, uidvalidity bigint NOT NULL, uid bigint NOT NULL,
    code text NOT NULL, detail text NOT NULL, size bigint, email_id bigint REFERENCES email (id),
    first_seen_at bigint NOT NULL, last_seen_at bigint NOT NULL, count bigint NOT NULL DEFAULT 1,
    subject text, message_id text,
    UNIQUE (mailbox_id, folder, uidvalidity, uid, code)
  );
  CREATE INDEX item_failure_counts ON item_failure (mailbox_id, direction, code);
  CREATE INDEX item_failure_recent ON item_failure (last_seen_at);
  CREATE INDEX item_failure_code ON item_failure (code, last_seen_at);
  -- runner: which runner opened the run (abortUnfinishedRuns closes only its own).
  CREATE TABLE sync_run (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mailbox_id text NOT NULL, direction text NOT NULL, runner text NOT NULL,
    started_at bigint NOT NULL, finished_at bigint,
    result text CHECK (result IN ('success', 'failure', 'aborted')),
    items_processed bigint NOT NULL DEFAULT 0, items_failed bigint NOT NULL DEFAULT 0,
    error_code text, error_message text
  );
  CREATE INDEX sync_run_mailbox ON sync_run (mailbox_id, started_at);
  CREATE INDEX sync_run_open ON sync_run (runner) WHERE result IS NULL;
  CREATE TABLE mailbox_lifecycle (
    mailbox_id text PRIMARY KEY,
    approval text NOT NULL DEFAULT 'empty' CHECK (approval IN ('empty', 'pending', 'approved', 'rejected')),
    approval_by text, approval_role text, approval_at bigint,
    test_state text NOT NULL DEFAULT 'none' CHECK (test_state IN ('none', 'scheduled', 'running', 'completed')),
    test_requested_by text, test_requested_at bigint, test_started_at bigint, test_finished_at bigint,
    test_this_org_only integer NOT NULL DEFAULT 0, test_result text, test_send_message integer NOT NULL DEFAULT 0
  );
  CREATE TABLE alert_record (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    object_type text NOT NULL CHECK (object_type IN ('mailbox', 'profile')),
    object_id text NOT NULL, direction text NOT NULL, code text NOT NULL, class text NOT NULL, scope text NOT NULL,
    mailbox_id text NOT NULL, message text NOT NULL,
    first_seen_at bigint NOT NULL, last_seen_at bigint NOT NULL, count bigint NOT NULL DEFAULT 1,
    UNIQUE (object_type, object_id, direction, code)
  );
  CREATE INDEX alert_record_recent ON alert_record (object_type, object_id, last_seen_at);
  CREATE TABLE audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at bigint NOT NULL, actor text NOT NULL, role text NOT NULL, action text NOT NULL, mailbox_id text, detail text NOT NULL
  );
  CREATE INDEX audit_log_mailbox ON audit_log (mailbox_id, at);
  CREATE TABLE outgoing_email (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mailbox_id text NOT NULL, message_id text NOT NULL UNIQUE,
    state text NOT NULL CHECK (state IN ('pending_send', 'sending', 'sent', 'failed', 'postponed')),
    envelope_from text NOT NULL, recipients text NOT NULL, subject text, raw bytea NOT NULL, size bigint NOT NULL,
    queued_at bigint NOT NULL, queued_by text NOT NULL, attempts bigint NOT NULL DEFAULT 0, next_attempt_at bigint,
    last_error_code text, last_error_message text, sent_at bigint, smtp_response text
  );
  CREATE INDEX outgoing_email_queue ON outgoing_email (mailbox_id, state, next_attempt_at);
  CREATE TABLE outgoing_event (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email_id bigint NOT NULL REFERENCES outgoing_email (id), at bigint NOT NULL, state text NOT NULL, detail text NOT NULL
  );
  CREATE INDEX outgoing_event_email ON outgoing_event (email_id, id);
  CREATE TABLE send_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, profile_id text NOT NULL, at bigint NOT NULL, recipients bigint NOT NULL
  );
  CREATE INDEX send_log_profile ON send_log (profile_id, at);
  CREATE TABLE pop3_uidl (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mailbox_id text NOT NULL, uidl text NOT NULL, seen_at bigint NOT NULL, UNIQUE (mailbox_id, uidl)
  );
  CREATE TABLE act_collection (
    mailbox_id text NOT NULL, href text NOT NULL, kind text NOT NULL CHECK (kind IN ('calendar', 'addressbook')),
    name text, sync_token text, ctag text, updated_at bigint NOT NULL, PRIMARY KEY (mailbox_id, href)
  );
  CREATE TABLE act_item (
    mailbox_id text NOT NULL, collection text NOT NULL, href text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('event', 'task', 'contact')), uid text, etag text NOT NULL, data text NOT NULL,
    version bigint NOT NULL, deleted_at bigint, updated_at bigint NOT NULL, PRIMARY KEY (mailbox_id, collection, href)
  );
  CREATE TABLE act_item_version (
    mailbox_id text NOT NULL, collection text NOT NULL, href text NOT NULL, version bigint NOT NULL,
    change text NOT NULL CHECK (change IN ('created', 'updated', 'deleted')), etag text, data text, at bigint NOT NULL,
    PRIMARY KEY (mailbox_id, collection, href, version)
  );
  CREATE TABLE act_push (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mailbox_id text NOT NULL, collection text NOT NULL, href text NOT NULL,
    action text NOT NULL CHECK (action IN ('create', 'update', 'delete')), data text, base_etag text, requested_by text NOT NULL,
    state text NOT NULL CHECK (state IN ('pending', 'pushed', 'conflict', 'failed')), code text, message text,
    server_etag text, server_data text, created_at bigint NOT NULL, updated_at bigint NOT NULL
  );
  CREATE INDEX act_push_mailbox ON act_push (mailbox_id, state, id);
  CREATE TABLE oauth_refresh_token (
    login_key text PRIMARY KEY, sealed bytea NOT NULL, initial_fingerprint text NOT NULL, rotated_at bigint NOT NULL
  );
  -- seq is handed out at commit from feed_counter (docs/decisions.md, "The change feed"), never by a
  -- sequence: a bigserial is taken at insert, and a reader could pass a number still uncommitted.
  CREATE TABLE change_feed (
    seq bigint PRIMARY KEY, at bigint NOT NULL, kind text NOT NULL, mailbox_id text NOT NULL, ref_id bigint, data text NOT NULL
  );
  CREATE INDEX change_feed_at ON change_feed (at);
  CREATE TABLE feed_counter (one boolean PRIMARY KEY DEFAULT true CHECK (one), seq bigint NOT NULL);
  INSERT INTO feed_counter (seq) VALUES (0);
  CREATE TABLE webhook_delivery (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id text NOT NULL, seq bigint NOT NULL,
    state text NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts bigint NOT NULL DEFAULT 0, created_at bigint NOT NULL, next_attempt_at bigint, last_attempt_at bigint,
    last_status bigint, last_error text, delivered_at bigint,
    UNIQUE (webhook_id, seq)
  );
  CREATE INDEX webhook_delivery_due ON webhook_delivery (webhook_id, state, next_attempt_at);
  CREATE INDEX webhook_delivery_seq ON webhook_delivery (seq);
  `,
  // 2: leases and runners (design of issue 16): who works on which mailbox direction, and who is alive.
  `
  -- A: the tables B's lease store (store/postgres/leases.ts) claims, renews and releases in.
  CREATE TABLE leases (
    mailbox_id text NOT NULL,
    direction text NOT NULL,
    runner text,
    token bigint NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (mailbox_id, direction)
  );
  CREATE TABLE runners (id text PRIMARY KEY, started_at timestamptz NOT NULL, seen_at timestamptz NOT NULL);
  `,
  // 3: B: the keeper asks for a runner's own leases on every renewal; without the index that is a
  // scan of every lease of the fleet each ttl/3, by every runner.
  'CREATE INDEX leases_runner ON leases (runner) WHERE runner IS NOT NULL',
  // 4: C: profiles and mailboxes defined in the store, as their config-schema JSON, and the revision
  // runners poll. Every change updates the one revision row, so writers on several runners queue there.
  `
  CREATE TABLE definition (
    kind text NOT NULL CHECK (kind IN ('profile', 'mailbox')),
    id text NOT NULL,
    source text NOT NULL CHECK (source IN ('file', 'api')),
    body jsonb NOT NULL,
    changed_by text NOT NULL,
    changed_at bigint NOT NULL,
    PRIMARY KEY (kind, id)
  );
  CREATE INDEX definition_mailbox_profile ON definition ((body->>'profile')) WHERE kind = 'mailbox';
  CREATE TABLE definition_revision (id int PRIMARY KEY CHECK (id = 1), revision bigint NOT NULL);
  INSERT INTO definition_revision (id, revision) VALUES (1, 0);
  `,
  // C: a profile's sends in flight on every runner (send-limits.ts) are read at each claim under a
  // sending limit; the emails in `sending` are a handful among the whole history of sent ones.
  "CREATE INDEX outgoing_email_sending ON outgoing_email (mailbox_id) WHERE state = 'sending'",
  // A run's end prunes its result's history and its start closes the direction's open runs: both
  // read one (mailbox, direction, result) newest first (the SQLite store's migration says more).
  `
  DROP INDEX sync_run_mailbox;
  CREATE INDEX sync_run_history ON sync_run (mailbox_id, direction, result, id);
  `,
];

/** Any number: the advisory lock migrations take, so runners starting at once migrate one at a time. */
const MIGRATION_LOCK = 0x6d61696c; // 'mail'

/**
 * Brings the database to the latest version. Each migration runs in its own transaction under
 * `pg_advisory_xact_lock`, which re-reads the version once it holds the lock: a second runner
 * that started at the same moment waits, then finds the work done. Refuses a newer schema.
 */
export async function migrate(pool: pg.Pool, migrations: readonly string[] = PG_MIGRATIONS): Promise<number> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    for (;;) {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      // Under the lock: two runners creating it at once would collide in the catalog.
      await client.query('CREATE TABLE IF NOT EXISTS mailsync_schema (version integer NOT NULL)');
      const rows = (await client.query<{ version: number }>('SELECT version FROM mailsync_schema')).rows;
      const current = rows[0]?.version ?? 0;
      if (current > migrations.length) {
        await client.query('ROLLBACK');
        throw new Error(`store schema version ${current} is newer than this mailsync (${migrations.length}); upgrade mailsync`);
      }
      if (current === migrations.length) {
        await client.query('COMMIT');
        return current;
      }
      await client.query(migrations[current] as string);
      if (rows.length === 0) await client.query('INSERT INTO mailsync_schema (version) VALUES ($1)', [current + 1]);
      else await client.query('UPDATE mailsync_schema SET version = $1', [current + 1]);
      await client.query('COMMIT');
    }
  } catch (error) {
    await client.query('ROLLBACK').catch((e: unknown) => { broken = e as Error; });
    throw error;
  } finally {
    client.release(broken);
  }
}
