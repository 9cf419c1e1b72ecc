import { FEATURE_MIGRATIONS } from './migrations-features.js';

/**
 * Numbered schema migrations. Each runs once, in order, inside a transaction; the schema version
 * is SQLite's `user_version`. Never edit a migration that has shipped: add the next one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: runtime state, folder cursors, emails stored once per mailbox, item failures, run history.
  `
  CREATE TABLE mailbox_direction_state (
    mailbox_id TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('incoming', 'outgoing', 'act')),
    status TEXT NOT NULL DEFAULT 'not_run' CHECK (status IN ('not_run', 'success', 'failure')),
    last_run_started_at INTEGER,
    last_run_finished_at INTEGER,
    last_success_at INTEGER,
    last_failure_at INTEGER,
    last_error_code TEXT,
    last_error_message TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    items_processed_total INTEGER NOT NULL DEFAULT 0,
    items_failed_total INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (mailbox_id, direction)
  ) STRICT;

  CREATE TABLE folder_cursor (
    mailbox_id TEXT NOT NULL,
    folder TEXT NOT NULL,
    uidvalidity INTEGER NOT NULL,
    last_uid INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (mailbox_id, folder)
  ) STRICT;

  -- One row per distinct message of a mailbox, whatever folder or UIDVALIDITY it was seen under:
  -- the SHA-256 of the raw bytes is the identity, so a re-fetch can never add a second copy.
  CREATE TABLE email (
    id INTEGER PRIMARY KEY,
    mailbox_id TEXT NOT NULL,
    content_sha256 BLOB NOT NULL,
    message_id TEXT,
    from_addr TEXT,
    to_addrs TEXT,
    cc_addrs TEXT,
    subject TEXT,
    sent_at INTEGER,
    size INTEGER NOT NULL,
    raw BLOB NOT NULL,
    first_seen_at INTEGER NOT NULL,
    UNIQUE (mailbox_id, content_sha256)
  ) STRICT;
  CREATE INDEX email_message_id ON email (mailbox_id, message_id);

  -- Where each email was seen. Rows of an old UIDVALIDITY stay as history.
  CREATE TABLE email_location (
    mailbox_id TEXT NOT NULL,
    folder TEXT NOT NULL,
    uidvalidity INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    email_id INTEGER NOT NULL REFERENCES email (id),
    PRIMARY KEY (mailbox_id, folder, uidvalidity, uid)
  ) STRICT;
  CREATE INDEX email_location_email ON email_location (email_id);

  -- Item-level failures: one row per item and code, bumped when seen again.
  CREATE TABLE item_failure (
    id INTEGER PRIMARY KEY,
    mailbox_id TEXT NOT NULL,
    direction TEXT NOT NULL,
    folder TEXT NOT NULL,
    uidvalidity INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    code TEXT NOT NULL,
    detail TEXT NOT NULL,
    size INTEGER,
    email_id INTEGER REFERENCES email (id),
    first_seen_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    count INTEGER NOT NULL DEFAULT 1,
    UNIQUE (mailbox_id, folder, uidvalidity, uid, code)
  ) STRICT;

  CREATE TABLE sync_run (
    id INTEGER PRIMARY KEY,
    mailbox_id TEXT NOT NULL,
    direction TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    result TEXT CHECK (result IN ('success', 'failure', 'aborted')),
    items_processed INTEGER NOT NULL DEFAULT 0,
    items_failed INTEGER NOT NULL DEFAULT 0,
    error_code TEXT,
    error_message TEXT
  ) STRICT;
  CREATE INDEX sync_run_mailbox ON sync_run (mailbox_id, started_at);
  `,
  // 2: the mailbox lifecycle (system and operator disables, approval, Test & Enable), the alert
  // wall (one record per error per object, bumped when seen again) and the audit log.
  `
  ALTER TABLE mailbox_direction_state ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
  -- The taxonomy code when the system disabled the direction; NULL when an operator did.
  ALTER TABLE mailbox_direction_state ADD COLUMN disabled_code TEXT;
  ALTER TABLE mailbox_direction_state ADD COLUMN disabled_reason TEXT;
  ALTER TABLE mailbox_direction_state ADD COLUMN disabled_by TEXT;
  ALTER TABLE mailbox_direction_state ADD COLUMN disabled_at INTEGER;
  ALTER TABLE mailbox_direction_state ADD COLUMN next_attempt_at INTEGER;
  ALTER TABLE mailbox_direction_state ADD COLUMN last_error_class TEXT;
  ALTER TABLE mailbox_direction_state ADD COLUMN last_error_scope TEXT;

  CREATE TABLE mailbox_lifecycle (
    mailbox_id TEXT PRIMARY KEY,
    approval TEXT NOT NULL DEFAULT 'empty' CHECK (approval IN ('empty', 'pending', 'approved', 'rejected')),
    approval_by TEXT,
    approval_role TEXT,
    approval_at INTEGER,
    test_state TEXT NOT NULL DEFAULT 'none' CHECK (test_state IN ('none', 'scheduled', 'running', 'completed')),
    test_requested_by TEXT,
    test_requested_at INTEGER,
    test_started_at INTEGER,
    test_finished_at INTEGER,
    test_this_org_only INTEGER NOT NULL DEFAULT 0,
    test_result TEXT
  ) STRICT;

  CREATE TABLE alert_record (
    id INTEGER PRIMARY KEY,
    object_type TEXT NOT NULL CHECK (object_type IN ('mailbox', 'profile')),
    object_id TEXT NOT NULL,
    direction TEXT NOT NULL,
    code TEXT NOT NULL,
    class TEXT NOT NULL,
    scope TEXT NOT NULL,
    mailbox_id TEXT NOT NULL,
    message TEXT NOT NULL,
    first_seen_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    count INTEGER NOT NULL DEFAULT 1,
    UNIQUE (object_type, object_id, direction, code)
  ) STRICT;
  CREATE INDEX alert_record_recent ON alert_record (object_type, object_id, last_seen_at);

  CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    mailbox_id TEXT,
    detail TEXT NOT NULL
  ) STRICT;
  CREATE INDEX audit_log_mailbox ON audit_log (mailbox_id, at);
  `,
  // 3: per-mailbox run counters, kept in the store so that the exported counters survive restarts.
  `
  ALTER TABLE mailbox_direction_state ADD COLUMN runs_success_total INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE mailbox_direction_state ADD COLUMN runs_failure_total INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE mailbox_direction_state ADD COLUMN runs_aborted_total INTEGER NOT NULL DEFAULT 0;
  -- Runs started while the previous one had failed: the attempts the retry policy made.
  ALTER TABLE mailbox_direction_state ADD COLUMN retries_total INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX item_failure_counts ON item_failure (mailbox_id, direction, code);
  `,
  // 4: outgoing email (the Pending Send queue), its history, and the sends counted by the limits.
  `
  CREATE TABLE outgoing_email (
    id INTEGER PRIMARY KEY,
    mailbox_id TEXT NOT NULL,
    -- Given at queue time and never changed: a resend after a crash carries the same one, and the
    -- Sent folder is searched for it.
    message_id TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL CHECK (state IN ('pending_send', 'sending', 'sent', 'failed', 'postponed')),
    envelope_from TEXT NOT NULL,
    recipients TEXT NOT NULL,
    subject TEXT,
    raw BLOB NOT NULL,
    size INTEGER NOT NULL,
    queued_at INTEGER NOT NULL,
    queued_by TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    last_error_code TEXT,
    last_error_message TEXT,
    sent_at INTEGER,
    smtp_response TEXT
  ) STRICT;
  CREATE INDEX outgoing_email_queue ON outgoing_email (mailbox_id, state, next_attempt_at);

  CREATE TABLE outgoing_event (
    id INTEGER PRIMARY KEY,
    email_id INTEGER NOT NULL REFERENCES outgoing_email (id),
    at INTEGER NOT NULL,
    state TEXT NOT NULL,
    detail TEXT NOT NULL
  ) STRICT;
  CREATE INDEX outgoing_event_email ON outgoing_event (email_id, id);

  CREATE TABLE send_log (
    id INTEGER PRIMARY KEY,
    profile_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    recipients INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX send_log_profile ON send_log (profile_id, at);

  -- Test & Enable's outgoing round trip (send the mailbox a message and wait for it) is optional.
  ALTER TABLE mailbox_lifecycle ADD COLUMN test_send_message INTEGER NOT NULL DEFAULT 0;
  `,
  ...FEATURE_MIGRATIONS,
  // C: profiles and mailboxes defined in the store (the config file's imported as source 'file',
  // the admin API's as 'api'), as their config-schema JSON; one revision row, bumped in the same
  // transaction as every change, that runners poll.
  `
  CREATE TABLE definition (
    kind TEXT NOT NULL CHECK (kind IN ('profile', 'mailbox')),
    id TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('file', 'api')),
    body TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
  ) STRICT;
  CREATE TABLE definition_revision (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL
  ) STRICT;
  INSERT INTO definition_revision (id, revision) VALUES (1, 0);
  `,
  // A profile's sending limits count its other mailboxes' emails in flight at every claim
  // (outgoing.ts IN_FLIGHT): the few `sending` rows among the whole history of sent ones.
  "CREATE INDEX outgoing_email_sending ON outgoing_email (mailbox_id) WHERE state = 'sending'",
  // Every run prunes its result's history and closes its direction's open runs: both read one
  // (mailbox, direction, result) in id order. The index on (mailbox, start) made each read every
  // run of the mailbox and sort them; the soak's CPU profile put a sixth of the runner in a run's
  // end. A mailbox's whole history is read by its prefix. Measured: 340 -> 160-215 us a run.
  `
  DROP INDEX sync_run_mailbox;
  CREATE INDEX sync_run_history ON sync_run (mailbox_id, direction, result, id);
  `,
];
