import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { recordFailure } from '../../exporter/src/lifecycle/failure.js';
import { alertTargets } from '../../exporter/src/policy/failure.js';
import { DATA_JSON, emptyLifecycle, fenceContext, RUN_HISTORY, type FolderBatch, type IngestedEmail, type Store } from '../../exporter/src/store/index.js';

/**
 * What every store driver must do, whatever database is under it: one suite run by the unit
 * project on SQLite (store/store.test.ts) and by the integration project on a real PostgreSQL
 * (test/integration/store-postgres.test.ts). `open` returns a new, empty store each call.
 * Cases that are about one database (SQLite's pragmas and packs, PostgreSQL's fencing) stay in
 * that driver's own tests.
 */
export function storeSuite(driver: string, open: () => Promise<Store>): void {
  const stores: Store[] = [];
  const fresh = async () => {
    const s = await open();
    stores.push(s);
    return s;
  };
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
  });

  describe(`Store (${driver})`, () => {
    mailCases(fresh);
    runCases(fresh);
    transactionCases(fresh);
    feedCases(fresh);
    otherCases(fresh);
  });
}

export function email(uid: number, body: string): IngestedEmail {
  const raw = Buffer.from(`Subject: ${body}\r\n\r\n${body}\r\n`);
  return {
    uid, raw, sha256: createHash('sha256').update(raw).digest(),
    headers: { messageId: `<${body}@x>`, from: 'a@x', to: 'b@x', cc: null, subject: body, sentAt: 1_000 },
  };
}

const NOW = 1_800_000_000_000;

/** A batch of one message per UID for `mailboxId`, each with its own bytes (the feed's tests use it too). */
export function batch(mailboxId: string, uids: number[], at = NOW): FolderBatch {
  return {
    mailboxId, folder: 'INBOX', uidvalidity: 1, lastUid: Math.max(...uids), at, failures: [],
    emails: uids.map((uid) => {
      const raw = Buffer.from(`Message-ID: <m${uid}@x>\r\nFrom: a@example.com\r\nSubject: s${uid}\r\n\r\nbody ${mailboxId} ${uid}\r\n`);
      return { uid, raw, sha256: createHash('sha256').update(raw).digest(), headers: { messageId: `<m${uid}@x>`, from: 'a@example.com', to: null, cc: null, subject: `s${uid}`, sentAt: null } };
    }),
  };
}

type Open = () => Promise<Store>;

function mailCases(open: Open): void {
  it('stores a batch and its cursor together', async () => {
    const s = await open();
    const out = await s.mail.commitBatch({ mailboxId: 'm', folder: 'INBOX', uidvalidity: 7, lastUid: 3, emails: [email(1, 'a'), email(3, 'b')], failures: [], at: 5 });
    expect(out).toEqual({ inserted: 2, alreadyStored: 0 });
    expect(await s.mail.getCursor('m', 'INBOX')).toEqual({ uidvalidity: 7, lastUid: 3 });
    expect((await s.mail.listEmails('m')).map((e) => [e.subject, e.messageId, e.size])).toEqual([['a', '<a@x>', 17], ['b', '<b@x>', 17]]);
    expect((await s.mail.getRawEmail((await s.mail.listEmails('m'))[0]!.id))?.toString()).toBe('Subject: a\r\n\r\na\r\n');
  });

  it('keeps one email per content even when seen in another folder or under a new UIDVALIDITY', async () => {
    const s = await open();
    await s.mail.commitBatch({ mailboxId: 'm', folder: 'INBOX', uidvalidity: 7, lastUid: 1, emails: [email(1, 'a')], failures: [], at: 1 });
    const again = await s.mail.commitBatch({ mailboxId: 'm', folder: 'Archive', uidvalidity: 9, lastUid: 4, emails: [email(4, 'a')], failures: [], at: 2 });
    const recreated = await s.mail.commitBatch({ mailboxId: 'm', folder: 'INBOX', uidvalidity: 8, lastUid: 1, emails: [email(1, 'a')], failures: [], at: 3 });
    expect([again, recreated]).toEqual([{ inserted: 0, alreadyStored: 1 }, { inserted: 0, alreadyStored: 1 }]);
    expect(await s.mail.countEmails('m')).toBe(1);
    expect((await s.mail.emailLocations('m')).map((l) => `${l.folder}/${l.uidvalidity}/${l.uid}`)).toEqual(['Archive/9/4', 'INBOX/7/1', 'INBOX/8/1']);
    await s.mail.commitBatch({ mailboxId: 'n', folder: 'INBOX', uidvalidity: 1, lastUid: 1, emails: [email(1, 'a')], failures: [], at: 4 });
    expect(await s.mail.countEmails('n')).toBe(1);
  });

  it('records item failures once per item and code, counting repeats', async () => {
    const s = await open();
    const bad = email(2, 'broken');
    for (const at of [10, 20]) {
      await s.mail.commitBatch({
        mailboxId: 'm', folder: 'INBOX', uidvalidity: 1, lastUid: 3, at, emails: [bad],
        failures: [
          { uid: 2, code: 'item_parse_failed', detail: 'no header separator', size: bad.raw.length },
          { uid: 3, code: 'item_too_large', detail: 'message is 30000000 bytes', size: 30_000_000 },
        ],
      });
    }
    expect((await s.mail.listItemFailures('m')).map((f) => [f.uid, f.code, f.count, f.firstSeenAt, f.lastSeenAt, f.emailId !== null])).toEqual([
      [2, 'item_parse_failed', 2, 10, 20, true],
      [3, 'item_too_large', 2, 10, 20, false],
    ]);
    expect(await s.mail.itemFailureCounts()).toEqual(expect.arrayContaining([{ mailboxId: 'm', direction: 'incoming', code: 'item_too_large', count: 2 }]));
    const records = await s.mail.queryItemFailures({ mailboxId: 'm', limit: 10 });
    expect(records.map((r) => [r.code, r.subject])).toEqual([['item_too_large', null], ['item_parse_failed', 'broken']]);
    expect(await s.mail.queryItemFailures({ code: 'item_too_large', beforeId: records[0]!.id, limit: 10 })).toEqual([]);
  });

  it('pages records by filters and streams raw bytes in order', async () => {
    const s = await open();
    const big = { ...email(2, 'big'), raw: Buffer.alloc(2_500_000, 'x') };
    big.sha256 = createHash('sha256').update(big.raw).digest();
    await s.mail.commitBatch({ mailboxId: 'm', folder: 'INBOX', uidvalidity: 1, lastUid: 2, emails: [email(1, 'Hello 50%'), big], failures: [], at: 10 });
    await s.mail.commitBatch({ mailboxId: 'm', folder: 'Archive', uidvalidity: 1, lastUid: 1, emails: [email(1, 'Hello 50%')], failures: [], at: 20 });
    const [first] = await s.mail.queryEmails({ mailboxId: 'm', subjectContains: '50%', limit: 10 });
    expect(first).toMatchObject({ subject: 'Hello 50%', folders: ['Archive', 'INBOX'], hasAttachments: null });
    expect(await s.mail.queryEmails({ mailboxId: 'm', subjectContains: '5_%', limit: 10 })).toEqual([]);
    expect((await s.mail.queryEmails({ mailboxId: 'm', afterId: first!.id, limit: 10 })).map((e) => e.subject)).toEqual(['big']);
    await s.mail.setHasAttachments(first!.id, true);
    expect((await s.mail.queryEmails({ mailboxId: 'm', hasAttachments: true, limit: 10 })).map((e) => e.id)).toEqual([first!.id]);
    expect(await s.mail.getEmail('other', first!.id)).toBeUndefined();
    const stream = await s.mail.openRaw((await s.mail.getEmail('m', first!.id + 1))?.id ?? -1);
    const chunks: Buffer[] = [];
    for await (const chunk of stream!) chunks.push(chunk as Buffer);
    expect(chunks.length).toBeGreaterThan(1);
    expect(Buffer.concat(chunks).equals(big.raw)).toBe(true);
    expect(await s.mail.openRaw(999_999)).toBeUndefined();
  });
}

function runCases(open: Open): void {
  it('folds runs into the direction state: failures count up, a success resets them', async () => {
    const s = await open();
    for (const at of [100, 200]) {
      const r = await s.runs.startRun('m', 'incoming', at, false);
      await s.runs.finishRun(r, { result: 'failure', at: at + 10, itemsProcessed: 0, itemsFailed: 0, errorCode: 'connect_failed', errorMessage: 'ECONNREFUSED' });
    }
    expect(await s.runs.getDirectionState('m', 'incoming')).toMatchObject({ status: 'failure', consecutiveFailures: 2, lastFailureAt: 210, lastErrorCode: 'connect_failed' });
    const r3 = await s.runs.startRun('m', 'incoming', 300, false);
    await s.runs.finishRun(r3, { result: 'success', at: 320, itemsProcessed: 5, itemsFailed: 1 });
    expect(await s.runs.getDirectionState('m', 'incoming')).toMatchObject({
      status: 'success', consecutiveFailures: 0, lastSuccessAt: 320, lastRunStartedAt: 300, itemsProcessedTotal: 5, itemsFailedTotal: 1, disabled: false,
    });
    expect((await s.runs.listRuns('m')).map((r) => r.result)).toEqual(['success', 'failure', 'failure']);
    expect((await s.runs.listRuns('m', 10, 'failure')).map((r) => r.finishedAt)).toEqual([210, 110]);
    const [row] = await s.runs.scrapeRows();
    expect(row).toEqual(['m', 'incoming', 'success', 0, null, 0, 320, 210, 'connect_failed', null, null, 1, 2, 0, 0, 5]);
    expect(await s.runs.listDirectionStates()).toHaveLength(1);
  });

  it("reads a turn's gate state (the direction's state and the mailbox's lifecycle) as the two reads would", async () => {
    const s = await open();
    expect(await s.runs.gateState('m', 'incoming')).toEqual({ state: undefined, lifecycle: emptyLifecycle('m') });
    const r = await s.runs.startRun('m', 'incoming', 100, false);
    await s.runs.finishRun(r, {
      result: 'failure', at: 110, itemsProcessed: 0, itemsFailed: 0, errorCode: 'connect_failed', errorMessage: 'refused',
      failure: { class: 'transient', scope: 'server', nextAttemptAt: 400 },
    });
    await s.lifecycle.setApproval('m', 'approved', 'ann', 'admin', 120);
    await s.lifecycle.disable('m', 'incoming', { code: null, reason: 'by hand', by: 'ann', at: 130 });
    await s.lifecycle.requestTest('m', 'ann', true, 140);
    const gate = await s.runs.gateState('m', 'incoming');
    expect(gate).toEqual({ state: await s.runs.getDirectionState('m', 'incoming'), lifecycle: await s.lifecycle.get('m') });
    expect(gate.state).toMatchObject({ disabled: true, disabledBy: 'ann', consecutiveFailures: 1, lastErrorCode: 'connect_failed' });
    expect(gate.lifecycle).toMatchObject({ approval: 'approved', approvalRole: 'admin', test: { state: 'scheduled', thisOrgOnly: true } });
    // Another direction of the same mailbox has no state yet; the lifecycle is the mailbox's.
    expect(await s.runs.gateState('m', 'outgoing')).toEqual({ state: undefined, lifecycle: gate.lifecycle });
  });

  it('keeps failures longer than successes in the run history', async () => {
    const s = await open();
    for (let i = 0; i < RUN_HISTORY.successes + 5; i++) {
      await s.runs.finishRun(await s.runs.startRun('m', 'incoming', i, false), { result: i % 2 ? 'failure' : 'success', at: i, itemsProcessed: 0, itemsFailed: 0 });
    }
    for (let i = 0; i < RUN_HISTORY.successes + 5; i++) {
      await s.runs.finishRun(await s.runs.startRun('m', 'incoming', 100 + i, false), { result: 'success', at: 100 + i, itemsProcessed: 0, itemsFailed: 0 });
    }
    const runs = await s.runs.listRuns('m', 1_000);
    expect(runs.filter((r) => r.result === 'success')).toHaveLength(RUN_HISTORY.successes);
    expect(runs.filter((r) => r.result === 'failure')).toHaveLength(12);
  });

  it('closes runs left open by a crash as aborted', async () => {
    const s = await open();
    await s.runs.startRun('m', 'incoming', 1, false);
    expect(await s.runs.abortUnfinishedRuns(50)).toBe(1);
    expect((await s.runs.listRuns('m'))[0]).toMatchObject({ result: 'aborted', finishedAt: 50 });
  });

  it('closes, as aborted, a run of the direction left open when the next one starts (G: its cycle could not reach the store)', async () => {
    const s = await open();
    const stale = await s.runs.startRun('m', 'incoming', 1, false);
    await s.runs.startRun('m', 'outgoing', 2, false);
    const next = await s.runs.startRun('m', 'incoming', 5, false);
    const runs = await s.runs.listRuns('m');
    expect(runs.find((r) => r.id === stale)).toMatchObject({ result: 'aborted', finishedAt: 5 });
    expect(runs.find((r) => r.id === next)).toMatchObject({ result: null });
    // Another direction's open run is that direction's own business.
    expect(runs.filter((r) => r.result === null)).toHaveLength(2);
  });

  it('counts a run as a retry only when policy says it is one', async () => {
    const s = await open();
    await s.runs.finishRun(await s.runs.startRun('m', 'incoming', 1, false), { result: 'success', at: 2, itemsProcessed: 0, itemsFailed: 0 });
    await s.runs.finishRun(await s.runs.startRun('m', 'incoming', 3, true), { result: 'success', at: 4, itemsProcessed: 0, itemsFailed: 0 });
    expect(await s.runs.getDirectionState('m', 'incoming')).toMatchObject({ retriesTotal: 1 });
  });
}

function transactionCases(open: Open): void {
  it('keeps a failure\'s alert records and disable with the run, in one transaction', async () => {
    const s = await open();
    const fail = (mailboxId: string, at: number, scope: 'server' | 'mailbox', disable: boolean) => s.transaction(async (tx) => {
      const code = scope === 'server' ? 'connect_failed' : 'mailbox_not_found';
      const message = `refused at ${at}`;
      await tx.runs.finishRun(await tx.runs.startRun(mailboxId, 'incoming', at, false), {
        result: 'failure', at, itemsProcessed: 0, itemsFailed: 0, errorCode: code, errorMessage: message,
        failure: { class: 'transient', scope, nextAttemptAt: disable ? null : at + 300 },
      });
      await recordFailure(tx, {
        mailboxId, direction: 'incoming', code, class: 'transient', scope, message, at,
        alerts: alertTargets(scope, mailboxId, 'p'), disableBy: disable ? 'system' : null,
      });
    });
    await fail('m', 10, 'server', false);
    expect(await s.runs.getDirectionState('m', 'incoming')).toMatchObject({ disabled: false, nextAttemptAt: 310, lastErrorClass: 'transient', lastErrorScope: 'server' });
    await fail('m', 20, 'server', true);
    expect(await s.runs.getDirectionState('m', 'incoming')).toMatchObject({ disabled: true, disabledCode: 'connect_failed', disabledBy: 'system', disabledAt: 20, nextAttemptAt: null });
    expect(await s.lifecycle.alerts('mailbox', 'm')).toEqual([expect.objectContaining({ code: 'connect_failed', count: 2, firstSeenAt: 10, lastSeenAt: 20, message: 'refused at 20' })]);
    expect(await s.lifecycle.alerts('profile', 'p')).toEqual([expect.objectContaining({ code: 'connect_failed', count: 2, mailboxId: 'm' })]);
    await fail('n', 30, 'mailbox', true);
    expect(await s.lifecycle.alerts('profile', 'p')).toHaveLength(1);
    expect(await s.lifecycle.countFailedSince(['m', 'n', 'o'], 15)).toBe(2);
    expect(await s.lifecycle.countFailedSince(['m', 'n', 'o'], 25)).toBe(1);
    expect(await s.lifecycle.mailboxErrorCounts()).toEqual(expect.arrayContaining([{ mailboxId: 'm', direction: 'incoming', code: 'connect_failed', class: 'transient', scope: 'server', count: 2 }]));
    await s.lifecycle.enable('m', 'incoming');
    expect(await s.runs.getDirectionState('m', 'incoming')).toMatchObject({ disabled: false, disabledCode: null, consecutiveFailures: 0 });
  });

  it('rolls a transaction back as a whole when its body fails', async () => {
    const s = await open();
    await expect(s.transaction(async (tx) => {
      await tx.lifecycle.setApproval('m', 'approved', 'ann', 'operator', 1);
      throw new Error('half-way');
    })).rejects.toThrow('half-way');
    expect((await s.lifecycle.get('m')).approval).toBe('empty');
  });

  it('keeps a write issued outside an open transaction out of it (it survives the rollback)', async () => {
    const s = await open();
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    let entered!: () => void;
    const inside = new Promise<void>((r) => { entered = r; });
    const tx = s.transaction(async (t) => {
      await t.lifecycle.setApproval('m', 'approved', 'ann', 'operator', 1);
      entered();
      await held;
      throw new Error('rolled back');
    });
    await inside;
    const outside = s.lifecycle.setApproval('n', 'approved', 'bob', 'operator', 2);
    release();
    await expect(tx).rejects.toThrow('rolled back');
    await outside;
    expect((await s.lifecycle.get('m')).approval).toBe('empty');
    expect((await s.lifecycle.get('n')).approval).toBe('approved');
  });

  it('keeps approval, Test & Enable and the audit log per mailbox', async () => {
    const s = await open();
    await s.transaction(async (tx) => {
      await tx.lifecycle.setApproval('m', 'approved', 'ann', 'admin', 5);
      await tx.lifecycle.audit({ at: 5, actor: 'ann', role: 'admin', action: 'approve', mailboxId: 'm', detail: { comment: 'ok' } });
    });
    await s.lifecycle.requestTest('m', 'ann', true, 6, true);
    expect(await s.lifecycle.pendingTests()).toEqual(['m']);
    await s.lifecycle.setTestState('m', 'running', 7);
    expect(await s.lifecycle.activeTests()).toEqual([{ mailboxId: 'm', state: 'running', requestedAt: 6 }]);
    await s.lifecycle.setTestState('m', 'completed', 8, { passed: true });
    expect(await s.lifecycle.get('m')).toMatchObject({
      approval: 'approved', approvalBy: 'ann', approvalRole: 'admin', approvalAt: 5,
      test: { state: 'completed', requestedBy: 'ann', requestedAt: 6, startedAt: 7, finishedAt: 8, thisOrgOnly: true, sendTestMessage: true, result: { passed: true } },
    });
    expect((await s.lifecycle.list()).map((l) => l.mailboxId)).toEqual(['m']);
    expect(await s.lifecycle.auditLog('m')).toMatchObject([{ actor: 'ann', action: 'approve', mailboxId: 'm', detail: { comment: 'ok' } }]);
    expect(await s.schemaVersion()).toBeGreaterThan(0);
  });
}

function feedCases(open: Open): void {
  it('has one change per email stored for the first time, in commit order, across mailboxes and kinds', async () => {
    const s = await open();
    await s.mail.commitBatch(batch('ann', [1, 2]));
    await s.mail.commitBatch(batch('ann', [1, 2, 3])); // a re-fetch: only uid 3 is new
    for (let i = 0; i < 2; i++) await s.lifecycle.disable('bob', 'incoming', { code: 'credentials_rejected', reason: 'r', by: 'system', at: NOW });
    await s.lifecycle.enable('bob', 'incoming', NOW + 1);
    await s.lifecycle.enable('bob', 'incoming', NOW + 2);
    const changes = await s.feed.changesAfter(0, 100);
    expect(changes.map((c) => [c.kind, c.mailboxId, c.data.uid ?? c.data.direction])).toEqual([
      ['email_stored', 'ann', 1], ['email_stored', 'ann', 2], ['email_stored', 'ann', 3],
      ['direction_disabled', 'bob', 'incoming'], ['direction_enabled', 'bob', 'incoming'],
    ]);
    expect(changes.map((c) => c.seq)).toEqual([...changes.map((c) => c.seq)].sort((a, b) => a - b));
    expect(await s.feed.changesAfter(changes[2]!.seq, 100)).toHaveLength(2);
    expect(await s.feed.change(changes[0]!.seq)).toEqual(changes[0]);
    // The data's JSON as stored, which the feed writes as it is: the same data, and never in a change's own JSON.
    for (const c of changes) expect(JSON.parse(c[DATA_JSON]!)).toEqual(c.data);
    const { seq, at, kind, mailboxId, refId, data } = changes[0]!;
    expect(Object.keys(JSON.parse(JSON.stringify(changes[0])) as object)).toEqual(Object.keys({ seq, at, kind, mailboxId, refId, data }));
  });

  it('writes no change when the transaction of the change rolls back', async () => {
    const s = await open();
    await expect(s.transaction(async (tx) => {
      await tx.lifecycle.disable('bob', 'outgoing', { code: null, reason: 'r', by: 'op', at: NOW });
      throw new Error('boom');
    })).rejects.toThrow('boom');
    expect(await s.feed.changesAfter(0, 10)).toEqual([]);
  });

  it('wakes the notifier after a commit that wrote changes', async () => {
    const s = await open();
    const woken = s.changes.next(60_000);
    await s.lifecycle.disable('bob', 'outgoing', { code: null, reason: 'r', by: 'op', at: NOW });
    await woken;
    expect(await s.feed.changesAfter(0, 10)).toHaveLength(1);
  });

  it('writes an outbox row per subscribed webhook and change, and prunes only what is delivered', async () => {
    const s = await open();
    await s.feed.setWebhooks([{ id: 'crm', kinds: ['email_stored'] }, { id: 'ops', kinds: ['direction_disabled'] }]);
    await s.mail.commitBatch(batch('ann', [1, 2], NOW - 40 * 86_400_000));
    await s.lifecycle.disable('ann', 'incoming', { code: null, reason: 'r', by: 'op', at: NOW });
    expect(await s.feed.outboxStats()).toEqual([
      { webhookId: 'crm', pending: 2, dead: 0, oldestPendingAt: NOW - 40 * 86_400_000 },
      { webhookId: 'ops', pending: 1, dead: 0, oldestPendingAt: NOW },
    ]);
    expect(await s.feed.nextDueAt(['crm'])).toBe(NOW - 40 * 86_400_000);
    const [first] = await s.feed.claimDeliveries('crm', NOW, 1, NOW + 10_000);
    expect(await s.feed.claimDeliveries('crm', NOW, 5, NOW + 10_000)).toHaveLength(1); // the leased one is skipped
    await s.feed.recordAttempt(first!.id, { at: NOW, status: 200, error: null, next: 'delivered' });
    expect(await s.feed.prune(NOW - 30 * 86_400_000, 1_000)).toBe(1);
    expect((await s.feed.changesAfter(0, 10)).map((c) => c.data.uid ?? 'disable')).toEqual([2, 'disable']);
  });

  it('dead-letters and replays a delivery', async () => {
    const s = await open();
    await s.feed.setWebhooks([{ id: 'crm', kinds: ['email_stored'] }]);
    await s.mail.commitBatch(batch('ann', [1]));
    const [d] = await s.feed.claimDeliveries('crm', NOW, 1, NOW + 1);
    await s.feed.recordAttempt(d!.id, { at: NOW, status: 500, error: 'HTTP 500', next: 'dead' });
    expect(await s.feed.listDeliveries('dead', 10)).toMatchObject([{ id: d!.id, attempts: 1, lastStatus: 500 }]);
    expect(await s.feed.replay(d!.id, NOW + 5)).toBe(true);
    expect(await s.feed.replay(d!.id, NOW + 5)).toBe(false);
    expect(await s.feed.delivery(d!.id)).toMatchObject({ state: 'pending', attempts: 0, nextAttemptAt: NOW + 5 });
    expect(await s.feed.listDeliveries(undefined, 10)).toHaveLength(1);
  });

  it('drops the pending deliveries of a webhook removed from the config and keeps its dead ones', async () => {
    const s = await open();
    await s.feed.setWebhooks([{ id: 'crm', kinds: ['email_stored'] }, { id: 'old', kinds: ['email_stored'] }]);
    await s.mail.commitBatch(batch('ann', [1, 2]));
    const [dead] = await s.feed.claimDeliveries('old', NOW, 1, NOW);
    await s.feed.recordAttempt(dead!.id, { at: NOW, status: 500, error: 'HTTP 500', next: 'dead' });
    expect(await s.feed.setWebhooks([{ id: 'crm', kinds: ['email_stored'] }])).toBe(1);
    expect(await s.feed.outboxStats()).toEqual([
      { webhookId: 'crm', pending: 2, dead: 0, oldestPendingAt: NOW },
      { webhookId: 'old', pending: 0, dead: 1, oldestPendingAt: null },
    ]);
    expect(await s.feed.setWebhooks([{ id: 'crm', kinds: ['email_stored'] }])).toBe(0);
  });
}

function otherCases(open: Open): void {
  it('moves an outgoing email through its states with one history entry and change each', async () => {
    const s = await open();
    const id = await s.outgoing.queue({ mailboxId: 'ann', messageId: '<q1@x>', envelopeFrom: 'ann@x', recipients: ['b@x', 'c@x'], subject: 's', raw: Buffer.from('x'), at: NOW, by: 'op' });
    expect((await s.outgoing.due('ann', NOW, 10)).map((e) => e.id)).toEqual([id]);
    await s.outgoing.markSending(id, NOW + 1);
    expect((await s.outgoing.interrupted('ann')).map((e) => e.id)).toEqual([id]);
    expect(await s.outgoing.due('ann', NOW, 10)).toEqual([]);
    await s.outgoing.markSent(id, NOW + 2, '250 ok', 'p', 2);
    expect(await s.outgoing.get(id)).toMatchObject({ state: 'sent', attempts: 1, recipients: ['b@x', 'c@x'], sentAt: NOW + 2, smtpResponse: '250 ok' });
    expect((await s.outgoing.history(id)).map((h) => h.state)).toEqual(['pending_send', 'sending', 'sent']);
    expect(await s.outgoing.sendTotals('p', NOW + 3)).toEqual({ messagesLastMinute: 1, recipientsLastDay: 2 });
    expect(await s.outgoing.sendsSince('p', NOW)).toEqual([{ at: NOW + 2, recipients: 2 }]);
    expect((await s.feed.changesAfter(0, 10)).map((c) => [c.kind, c.refId, c.data.state, c.data.messageId])).toEqual([
      ['outgoing_state', id, 'pending_send', '<q1@x>'], ['outgoing_state', id, 'sending', '<q1@x>'], ['outgoing_state', id, 'sent', '<q1@x>'],
    ]);
    expect(await s.feed.outgoingMessageIds(['<q1@x>', '<other@x>'])).toEqual(['<q1@x>']);
    const later = await s.outgoing.queue({ mailboxId: 'ann', messageId: '<q2@x>', envelopeFrom: 'ann@x', recipients: ['b@x'], subject: null, raw: Buffer.from('yy'), at: NOW, by: 'op' });
    await s.outgoing.markPostponed(later, NOW, NOW + 60_000, 'limit');
    expect(await s.outgoing.due('ann', NOW + 1, 10)).toEqual([]);
    expect((await s.outgoing.due('ann', NOW + 60_000, 10)).map((e) => e.id)).toEqual([later]);
    expect(await s.outgoing.queueStats()).toEqual([{ mailboxId: 'ann', emails: 1, oldestQueuedAt: NOW }]);
    await s.outgoing.markFailed(later, NOW + 1, 'recipient_rejected', '550 no');
    expect((await s.outgoing.list('ann', 'failed', 10)).map((e) => e.lastErrorCode)).toEqual(['recipient_rejected']);
    expect((await s.outgoing.raw(later))?.toString()).toBe('yy');
  });

  it("counts in a profile's send limits the emails its other mailboxes have in flight, not the asking mailbox's own nor other profiles'", async () => {
    const s = await open();
    for (const [id, profile] of [['m1', 'p'], ['m2', 'p'], ['m3', 'q']] as const) {
      await s.definitions.create({ kind: 'mailbox', id, body: { id, profile }, changedBy: 'suite', changedAt: NOW });
    }
    const queue = (mailboxId: string, n: number, recipients: string[]) => s.outgoing.queue({
      mailboxId, messageId: `<f${n}@x>`, envelopeFrom: `${mailboxId}@x`, recipients, subject: null, raw: Buffer.from('x'), at: NOW, by: 'op',
    });
    const own = await queue('m1', 1, ['a@x']);
    const other = await queue('m2', 2, ['a@x', 'b@x']);
    const elsewhere = await queue('m3', 3, ['a@x']);
    for (const id of [own, other, elsewhere]) await s.outgoing.markSending(id, NOW + 1);
    // The asking cycle is m1's, under its outgoing lease's fence, as the scheduler runs it.
    const [lease] = await s.leases.claim('suite', [{ mailboxId: 'm1', direction: 'outgoing' }], 1, 60_000);
    const fence = { mailboxId: 'm1', direction: 'outgoing' as const, runner: 'suite', token: (lease as { token: number }).token };
    const asked = () => fenceContext.run(fence, () => s.transaction((tx) => tx.outgoing.sendTotals('p', NOW + 2)));
    expect(await asked()).toEqual({ messagesLastMinute: 1, recipientsLastDay: 2 });
    expect(await fenceContext.run(fence, () => s.outgoing.sendsSince('p', NOW - 1))).toEqual([{ at: NOW + 1, recipients: 2 }]);
    // Once sent it is in the log and no longer in flight: counted once.
    await s.outgoing.markSent(other, NOW + 3, '250 ok', 'p', 2);
    expect(await asked()).toEqual({ messagesLastMinute: 1, recipientsLastDay: 2 });
    // Outside a cycle nothing is the asker's own: m1's email in flight counts too.
    expect(await s.outgoing.sendsSince('p', NOW - 1)).toEqual([{ at: NOW + 1, recipients: 1 }, { at: NOW + 3, recipients: 2 }]);
  });

  it('keeps POP3 UIDLs with stable ids and forgets those the server no longer lists', async () => {
    const s = await open();
    const ids = await s.pop3.markSeen('m', ['a', 'b'], 1);
    expect(await s.pop3.markSeen('m', ['b', 'c'], 2)).toEqual(new Map([['b', ids.get('b')], ['c', expect.any(Number)]]));
    expect(await s.pop3.pruneMissing('m', ['b', 'c'])).toBe(1);
    expect([...(await s.pop3.seenUidls('m')).keys()].sort()).toEqual(['b', 'c']);
  });

  it('replaces a login\'s refresh token in place', async () => {
    const s = await open();
    await s.tokens.putRefreshToken('k', { sealed: Buffer.from([1, 2]), initialFingerprint: 'f', rotatedAt: 1 });
    await s.tokens.putRefreshToken('k', { sealed: Buffer.from([3]), initialFingerprint: 'f', rotatedAt: 2 });
    expect(await s.tokens.getRefreshToken('k')).toEqual({ sealed: Buffer.from([3]), initialFingerprint: 'f', rotatedAt: 2 });
    expect(await s.tokens.getRefreshToken('none')).toBeUndefined();
  });

  it('commits appointments with their versions, and a full read deletes what the server no longer lists', async () => {
    const s = await open();
    const collection = { href: '/cal/', kind: 'calendar' as const, name: 'Cal', syncToken: 't1', ctag: null };
    const item = (href: string, etag: string) => ({ href, etag, data: `BEGIN:VCALENDAR ${etag}`, kind: 'event' as const, uid: href });
    expect(await s.act.commit({ mailboxId: 'm', collection, changes: [item('a', '1'), item('b', '1')], failures: [], full: true, at: 1 }))
      .toEqual({ created: 2, updated: 0, deleted: 0, unchanged: 0 });
    expect(await s.act.commit({ mailboxId: 'm', collection: { ...collection, syncToken: 't2' }, changes: [item('a', '2')], failures: [{ href: 'c', code: 'item_parse_failed', detail: 'bad' }], full: true, at: 2 }))
      .toEqual({ created: 0, updated: 1, deleted: 1, unchanged: 0 });
    expect(await s.act.collections('m')).toEqual([{ ...collection, syncToken: 't2' }]);
    expect((await s.act.items('m')).map((i) => [i.href, i.version])).toEqual([['a', 2]]);
    expect((await s.act.items('m', { includeDeleted: true })).map((i) => [i.href, i.deletedAt])).toEqual([['a', null], ['b', 2]]);
    expect((await s.act.versions('m', '/cal/', 'b')).map((v) => v.change)).toEqual(['created', 'deleted']);
    expect(await s.mail.listItemFailures('m')).toMatchObject([{ direction: 'act', folder: '/cal/', code: 'item_parse_failed', detail: 'c: bad' }]);
    const push = await s.act.queuePush({ mailboxId: 'm', collection: '/cal/', href: 'a', action: 'update', data: 'x', baseEtag: '2', requestedBy: 'op', at: 3 });
    await s.act.finishPush(push, { state: 'conflict', at: 4, serverEtag: '3', serverData: 'y' });
    expect(await s.act.push(push)).toMatchObject({ state: 'conflict', serverEtag: '3', at: 3, updatedAt: 4 });
    expect(await s.act.pushes('m', 'conflict')).toHaveLength(1);
    expect(await s.act.item('m', '/cal/', 'a')).toMatchObject({ etag: '2', version: 2 });
    // Each version written is a change in the feed, in the commit's transaction.
    expect((await s.feed.changesAfter(0, 10)).map((c) => [c.kind, c.data.href, c.data.change])).toEqual([
      ['act_item_changed', 'a', 'created'], ['act_item_changed', 'b', 'created'], ['act_item_changed', 'a', 'updated'], ['act_item_deleted', 'b', 'deleted'],
    ]);
  });

  it('checks every email\'s bytes against its SHA-256', async () => {
    const s = await open();
    await s.mail.commitBatch(batch('ann', [1, 2]));
    const seen: number[] = [];
    const report = await s.check((done) => seen.push(done));
    expect(report).toMatchObject({ integrity: [], emails: 2, problems: [] });
    expect(seen.at(-1)).toBe(2);
    expect(await s.compact()).toMatchObject({ removed: 0 });
  });
}
