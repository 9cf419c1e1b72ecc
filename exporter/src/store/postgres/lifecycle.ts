import { emptyLifecycle, type AlertRecord, type AlertRecordInput, type Approval, type AuditEntry, type AuditInput, type Direction, type Lifecycle, type TestState } from '../types.js';
import type { Db, Tx } from './connection.js';
import { ensureState } from './runs.js';
import { toLifecycle, type LifecycleRow } from '../sqlite/lifecycle.js';

type ErrorCount = { mailboxId: string; direction: string; code: string; class: string; scope: string; count: number };

/** Approval, Test & Enable, disables, the alert wall and the audit log, in PostgreSQL. */
export class PgLifecycle {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async get(mailboxId: string): Promise<Lifecycle> {
    const [row] = await this.#db.read<LifecycleRow>('SELECT * FROM mailbox_lifecycle WHERE mailbox_id = $1', [mailboxId]);
    return row ? toLifecycle(row) : emptyLifecycle(mailboxId);
  }

  async list(): Promise<Lifecycle[]> {
    return (await this.#db.read<LifecycleRow>('SELECT * FROM mailbox_lifecycle ORDER BY mailbox_id')).map(toLifecycle);
  }

  setApproval(mailboxId: string, approval: Approval, by: string, role: string, at: number): Promise<void> {
    return this.#update(mailboxId, 'approval = $2, approval_by = $3, approval_role = $4, approval_at = $5', [approval, by, role, at]);
  }

  requestTest(mailboxId: string, by: string, thisOrgOnly: boolean, at: number, sendTestMessage = false): Promise<void> {
    return this.#update(mailboxId, `test_state = 'scheduled', test_requested_by = $2, test_requested_at = $3, test_started_at = NULL,
      test_finished_at = NULL, test_this_org_only = $4, test_send_message = $5, test_result = NULL`, [by, at, Number(thisOrgOnly), Number(sendTestMessage)]);
  }

  setTestState(mailboxId: string, state: Exclude<TestState, 'none'>, at: number, result?: unknown): Promise<void> {
    if (state === 'running') return this.#update(mailboxId, `test_state = 'running', test_started_at = $2`, [at]);
    if (state === 'completed') {
      return this.#update(mailboxId, `test_state = 'completed', test_finished_at = $2, test_result = $3`, [at, JSON.stringify(result ?? null)]);
    }
    return this.#update(mailboxId, `test_state = 'scheduled', test_started_at = NULL`, []);
  }

  activeTests(): Promise<{ mailboxId: string; state: TestState; requestedAt: number | null }[]> {
    return this.#db.read(`SELECT mailbox_id AS "mailboxId", test_state AS state, test_requested_at AS "requestedAt"
      FROM mailbox_lifecycle WHERE test_state IN ('scheduled', 'running')`);
  }

  async pendingTests(): Promise<string[]> {
    return (await this.activeTests()).sort((a, b) => (a.requestedAt ?? 0) - (b.requestedAt ?? 0)).map((t) => t.mailboxId);
  }

  /** FOR UPDATE on the state row: two runners disabling at once report one change, not two. */
  disable(mailboxId: string, direction: Direction, d: { code: string | null; reason: string; by: string; at: number }): Promise<void> {
    return this.#db.write(async (tx) => {
      const was = await lockDisabled(tx, mailboxId, direction);
      await tx.query(`UPDATE mailbox_direction_state SET disabled = 1, disabled_code = $3, disabled_reason = $4, disabled_by = $5,
        disabled_at = $6, next_attempt_at = NULL WHERE mailbox_id = $1 AND direction = $2`, [mailboxId, direction, d.code, d.reason, d.by, d.at]);
      if (!was) tx.append({ kind: 'direction_disabled', mailboxId, refId: null, at: d.at, data: { direction, code: d.code, reason: d.reason, by: d.by } });
    });
  }

  enable(mailboxId: string, direction: Direction, at = Date.now()): Promise<void> {
    return this.#db.write(async (tx) => {
      const was = await lockDisabled(tx, mailboxId, direction);
      await tx.query(`UPDATE mailbox_direction_state SET disabled = 0, disabled_code = NULL, disabled_reason = NULL, disabled_by = NULL,
        disabled_at = NULL, next_attempt_at = NULL, consecutive_failures = 0 WHERE mailbox_id = $1 AND direction = $2`, [mailboxId, direction]);
      if (was) tx.append({ kind: 'direction_enabled', mailboxId, refId: null, at, data: { direction } });
    });
  }

  async recordAlert(a: AlertRecordInput): Promise<void> {
    await this.#db.write((tx) => tx.query(`INSERT INTO alert_record (object_type, object_id, direction, code, class, scope, mailbox_id, message,
      first_seen_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
      ON CONFLICT (object_type, object_id, direction, code) DO UPDATE SET count = alert_record.count + 1, last_seen_at = excluded.last_seen_at,
      message = excluded.message, mailbox_id = excluded.mailbox_id, class = excluded.class, scope = excluded.scope`,
    [a.objectType, a.objectId, a.direction, a.code, a.class, a.scope, a.mailboxId, a.message, a.at]));
  }

  alerts(objectType: 'mailbox' | 'profile', objectId: string, limit = 100): Promise<AlertRecord[]> {
    return this.#db.read(`SELECT object_type AS "objectType", object_id AS "objectId", direction, code, class, scope, mailbox_id AS "mailboxId",
      message, first_seen_at AS "firstSeenAt", last_seen_at AS "lastSeenAt", count FROM alert_record
      WHERE object_type = $1 AND object_id = $2 ORDER BY last_seen_at DESC, id LIMIT $3`, [objectType, objectId, limit]);
  }

  mailboxErrorCounts(): Promise<ErrorCount[]> {
    return this.#db.read(`SELECT object_id AS "mailboxId", direction, code, class, scope, count FROM alert_record WHERE object_type = 'mailbox'`);
  }

  async audit(entry: AuditInput): Promise<void> {
    await this.#db.write((tx) => tx.query('INSERT INTO audit_log (at, actor, role, action, mailbox_id, detail) VALUES ($1, $2, $3, $4, $5, $6)',
      [entry.at, entry.actor, entry.role, entry.action, entry.mailboxId ?? null, JSON.stringify(entry.detail ?? {})]));
  }

  async auditLog(mailboxId: string, limit = 100): Promise<AuditEntry[]> {
    const rows = await this.#db.read<Omit<AuditEntry, 'detail'> & { detail: string }>(`SELECT id, at, actor, role, action,
      mailbox_id AS "mailboxId", detail FROM audit_log WHERE mailbox_id = $1 ORDER BY id DESC LIMIT $2`, [mailboxId, limit]);
    return rows.map((r) => ({ ...r, detail: JSON.parse(r.detail) as Record<string, unknown> }));
  }

  async countFailedSince(mailboxIds: string[], since: number): Promise<number> {
    if (mailboxIds.length === 0) return 0;
    const [row] = await this.#db.read<{ n: number }>(`SELECT count(DISTINCT mailbox_id) AS n FROM mailbox_direction_state
      WHERE last_failure_at >= $1 AND mailbox_id = ANY($2::text[])`, [since, mailboxIds]);
    return row?.n ?? 0;
  }

  /** Creates the mailbox's lifecycle row if needed and sets `assignments` ($1 is the mailbox). */
  #update(mailboxId: string, assignments: string, values: unknown[]): Promise<void> {
    return this.#db.write(async (tx) => {
      await tx.query('INSERT INTO mailbox_lifecycle (mailbox_id) VALUES ($1) ON CONFLICT DO NOTHING', [mailboxId]);
      await tx.query(`UPDATE mailbox_lifecycle SET ${assignments} WHERE mailbox_id = $1`, [mailboxId, ...values]);
    });
  }
}

async function lockDisabled(tx: Tx, mailboxId: string, direction: Direction): Promise<boolean> {
  await ensureState(tx, mailboxId, direction);
  const [row] = await tx.query<{ disabled: number }>('SELECT disabled FROM mailbox_direction_state WHERE mailbox_id = $1 AND direction = $2 FOR UPDATE',
    [mailboxId, direction]);
  return row?.disabled === 1;
}

