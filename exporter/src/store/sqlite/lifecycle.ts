import type Database from 'better-sqlite3';
import type { SqliteFeed } from './feed.js';
import { emptyLifecycle, type AlertRecord, type AlertRecordInput, type Approval, type AuditEntry, type AuditInput, type Direction, type Lifecycle, type TestState } from '../types.js';

/**
 * The mailbox lifecycle tables: approval, Test & Enable, disables, the alert wall and the audit
 * log, in SQLite (same connection and transactions as the rest of the store).
 */
export class SqliteLifecycle {
  readonly #s;
  readonly #db: Database.Database;
  readonly #feed: SqliteFeed;

  constructor(db: Database.Database, feed: SqliteFeed) {
    this.#s = prepare(db);
    this.#db = db;
    this.#feed = feed;
  }

  get(mailboxId: string): Lifecycle {
    const row = this.#s.get.get(mailboxId) as LifecycleRow | undefined;
    return row ? toLifecycle(row) : emptyLifecycle(mailboxId);
  }

  list(): Lifecycle[] {
    return (this.#s.list.all() as LifecycleRow[]).map(toLifecycle);
  }

  setApproval(mailboxId: string, approval: Approval, by: string, role: string, at: number): void {
    this.#s.ensure.run(mailboxId);
    this.#s.setApproval.run({ mailboxId, approval, by, role, at });
  }

  requestTest(mailboxId: string, by: string, thisOrgOnly: boolean, at: number, sendTestMessage = false): void {
    this.#s.ensure.run(mailboxId);
    this.#s.requestTest.run({ mailboxId, by, at, thisOrgOnly: thisOrgOnly ? 1 : 0, sendTestMessage: sendTestMessage ? 1 : 0 });
  }

  setTestState(mailboxId: string, state: Exclude<TestState, 'none'>, at: number, result?: unknown): void {
    this.#s.ensure.run(mailboxId);
    if (state === 'running') this.#s.testRunning.run({ mailboxId, at });
    else if (state === 'completed') this.#s.testCompleted.run({ mailboxId, at, result: JSON.stringify(result ?? null) });
    else this.#s.testScheduled.run({ mailboxId });
  }

  /** Mailboxes with Test & Enable scheduled or running, and when it was requested (for /metrics). */
  activeTests(): { mailboxId: string; state: TestState; requestedAt: number | null }[] {
    return this.#s.activeTests.all() as { mailboxId: string; state: TestState; requestedAt: number | null }[];
  }

  /** Test & Enable requests still to run (scheduled, or running when the runner stopped), oldest first. */
  pendingTests(): string[] {
    return this.activeTests().sort((a, b) => (a.requestedAt ?? 0) - (b.requestedAt ?? 0)).map((t) => t.mailboxId);
  }

  /** Disables a direction. `code` is the taxonomy code when the system disables, null for an operator. */
  disable(mailboxId: string, direction: Direction, d: { code: string | null; reason: string; by: string; at: number }): void {
    this.#db.transaction(() => {
      const was = this.#disabled(mailboxId, direction);
      this.#s.disable.run({ mailboxId, direction, code: d.code, reason: d.reason, by: d.by, at: d.at });
      if (!was) {
        this.#feed.append({ kind: 'direction_disabled', mailboxId, refId: null, at: d.at, data: { direction, code: d.code, reason: d.reason, by: d.by } });
      }
    })();
  }

  /** Enables a direction and resets its retry budget (after Test & Enable or an approval). */
  enable(mailboxId: string, direction: Direction, at = Date.now()): void {
    this.#db.transaction(() => {
      const was = this.#disabled(mailboxId, direction);
      this.#s.enable.run({ mailboxId, direction });
      // Enabling an enabled direction (an approval, a passing Test & Enable) changes nothing to report.
      if (was) this.#feed.append({ kind: 'direction_enabled', mailboxId, refId: null, at, data: { direction } });
    })();
  }

  #disabled(mailboxId: string, direction: Direction): boolean {
    this.#s.ensureState.run(mailboxId, direction);
    return (this.#s.isDisabled.get(mailboxId, direction) as { disabled: number }).disabled === 1;
  }

  /** One record per object, direction and code: first seen, last seen and how often. */
  recordAlert(a: AlertRecordInput): void {
    this.#s.upsertAlert.run({ ...a });
  }

  alerts(objectType: 'mailbox' | 'profile', objectId: string, limit = 100): AlertRecord[] {
    return this.#s.alerts.all(objectType, objectId, limit) as AlertRecord[];
  }

  /** Failure counts per mailbox, direction and code (the mailbox alert records), for the scrape. */
  mailboxErrorCounts(): { mailboxId: string; direction: string; code: string; class: string; scope: string; count: number }[] {
    return this.#s.errorCounts.all() as { mailboxId: string; direction: string; code: string; class: string; scope: string; count: number }[];
  }

  audit(entry: AuditInput): void {
    this.#s.audit.run({ ...entry, mailboxId: entry.mailboxId ?? null, detail: JSON.stringify(entry.detail ?? {}) });
  }

  auditLog(mailboxId: string, limit = 100): AuditEntry[] {
    return (this.#s.auditLog.all(mailboxId, limit) as (Omit<AuditEntry, 'detail'> & { detail: string })[])
      .map((r) => ({ ...r, detail: JSON.parse(r.detail) as Record<string, unknown> }));
  }

  /** How many of `mailboxIds` had a failed run at or after `since` (the profile's failing share). */
  countFailedSince(mailboxIds: string[], since: number): number {
    if (mailboxIds.length === 0) return 0;
    return (this.#s.failedSince.get(since, JSON.stringify(mailboxIds)) as { n: number }).n;
  }
}

/** A: a mailbox_lifecycle row as both drivers read it, and its mapping. */
export interface LifecycleRow {
  mailbox_id: string; approval: Approval; approval_by: string | null; approval_role: string | null; approval_at: number | null;
  test_state: TestState; test_requested_by: string | null; test_requested_at: number | null; test_started_at: number | null;
  test_finished_at: number | null; test_this_org_only: number; test_send_message: number; test_result: string | null;
}

export function toLifecycle(r: LifecycleRow): Lifecycle {
  return {
    mailboxId: r.mailbox_id, approval: r.approval, approvalBy: r.approval_by, approvalRole: r.approval_role, approvalAt: r.approval_at,
    test: {
      state: r.test_state, requestedBy: r.test_requested_by, requestedAt: r.test_requested_at, startedAt: r.test_started_at,
      finishedAt: r.test_finished_at, thisOrgOnly: r.test_this_org_only === 1, sendTestMessage: r.test_send_message === 1,
      result: r.test_result === null ? null : JSON.parse(r.test_result) as unknown,
    },
  };
}

function prepare(db: Database.Database) {
  return {
    get: db.prepare('SELECT * FROM mailbox_lifecycle WHERE mailbox_id = ?'),
    list: db.prepare('SELECT * FROM mailbox_lifecycle ORDER BY mailbox_id'),
    ensure: db.prepare('INSERT INTO mailbox_lifecycle (mailbox_id) VALUES (?) ON CONFLICT DO NOTHING'),
    ensureState: db.prepare('INSERT INTO mailbox_direction_state (mailbox_id, direction) VALUES (?, ?) ON CONFLICT DO NOTHING'),
    setApproval: db.prepare(`UPDATE mailbox_lifecycle SET approval = @approval, approval_by = @by, approval_role = @role,
      approval_at = @at WHERE mailbox_id = @mailboxId`),
    requestTest: db.prepare(`UPDATE mailbox_lifecycle SET test_state = 'scheduled', test_requested_by = @by,
      test_requested_at = @at, test_started_at = NULL, test_finished_at = NULL, test_this_org_only = @thisOrgOnly,
      test_send_message = @sendTestMessage,
      test_result = NULL WHERE mailbox_id = @mailboxId`),
    testScheduled: db.prepare(`UPDATE mailbox_lifecycle SET test_state = 'scheduled', test_started_at = NULL WHERE mailbox_id = @mailboxId`),
    testRunning: db.prepare(`UPDATE mailbox_lifecycle SET test_state = 'running', test_started_at = @at WHERE mailbox_id = @mailboxId`),
    testCompleted: db.prepare(`UPDATE mailbox_lifecycle SET test_state = 'completed', test_finished_at = @at, test_result = @result
      WHERE mailbox_id = @mailboxId`),
    activeTests: db.prepare(`SELECT mailbox_id AS mailboxId, test_state AS state, test_requested_at AS requestedAt
      FROM mailbox_lifecycle WHERE test_state IN ('scheduled', 'running')`),
    isDisabled: db.prepare('SELECT disabled FROM mailbox_direction_state WHERE mailbox_id = ? AND direction = ?'),
    disable: db.prepare(`UPDATE mailbox_direction_state SET disabled = 1, disabled_code = @code, disabled_reason = @reason,
      disabled_by = @by, disabled_at = @at, next_attempt_at = NULL WHERE mailbox_id = @mailboxId AND direction = @direction`),
    enable: db.prepare(`UPDATE mailbox_direction_state SET disabled = 0, disabled_code = NULL, disabled_reason = NULL,
      disabled_by = NULL, disabled_at = NULL, next_attempt_at = NULL, consecutive_failures = 0
      WHERE mailbox_id = @mailboxId AND direction = @direction`),
    upsertAlert: db.prepare(`INSERT INTO alert_record (object_type, object_id, direction, code, class, scope, mailbox_id, message,
      first_seen_at, last_seen_at) VALUES (@objectType, @objectId, @direction, @code, @class, @scope, @mailboxId, @message, @at, @at)
      ON CONFLICT (object_type, object_id, direction, code) DO UPDATE SET count = count + 1, last_seen_at = excluded.last_seen_at,
      message = excluded.message, mailbox_id = excluded.mailbox_id, class = excluded.class, scope = excluded.scope`),
    alerts: db.prepare(`SELECT object_type AS objectType, object_id AS objectId, direction, code, class, scope, mailbox_id AS mailboxId,
      message, first_seen_at AS firstSeenAt, last_seen_at AS lastSeenAt, count FROM alert_record
      WHERE object_type = ? AND object_id = ? ORDER BY last_seen_at DESC, id LIMIT ?`),
    errorCounts: db.prepare(`SELECT object_id AS mailboxId, direction, code, class, scope, count FROM alert_record
      WHERE object_type = 'mailbox'`),
    audit: db.prepare(`INSERT INTO audit_log (at, actor, role, action, mailbox_id, detail)
      VALUES (@at, @actor, @role, @action, @mailboxId, @detail)`),
    failedSince: db.prepare(`SELECT count(DISTINCT mailbox_id) AS n FROM mailbox_direction_state
      WHERE last_failure_at >= ? AND mailbox_id IN (SELECT value FROM json_each(?))`),
    auditLog: db.prepare(`SELECT id, at, actor, role, action, mailbox_id AS mailboxId, detail FROM audit_log
      WHERE mailbox_id = ? ORDER BY id DESC LIMIT ?`),
  };
}
