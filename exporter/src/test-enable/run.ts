import { taxonomyEntry } from '../classify/index.js';
import type { Config, Mailbox, Profile } from '../config/index.js';
import type { DirectionCheck, DirectionDeps, Directions } from '../directions/contract.js';
import { approvalBlockFor } from '../lifecycle/approval.js';
import { recordFailure } from '../lifecycle/failure.js';
import { alertTargets } from '../policy/failure.js';
import { testChanges } from '../policy/test-enable.js';
import { DIRECTIONS } from '@mailsync/contract';
import type { TestEnableResult } from './types.js';

/**
 * Test & Enable for one mailbox: each configured direction is checked by its own runner (connect,
 * secure the channel, authenticate, open; the incoming check also marks ownership). Directions
 * that pass are enabled with a fresh retry budget, the others are disabled with the failure's
 * code. The request must already be recorded as scheduled; this records running, then completed
 * with the result. Aborted by `signal` (the runner stops): nothing is recorded, the request
 * stays "running" and resumes at the next start.
 */
export async function runTestEnable(
  mailbox: Mailbox, profile: Profile, config: Pick<Config, 'organization' | 'sync'>, directions: Directions, deps: DirectionDeps,
  signal?: AbortSignal,
): Promise<TestEnableResult> {
  const { store, clock } = deps;
  const log = deps.logger.child({ mailbox: mailbox.id, profile: profile.id, task: 'test-enable' });
  await store.lifecycle.setTestState(mailbox.id, 'running', clock.now());
  const request = (await store.lifecycle.get(mailbox.id)).test;
  const options = { thisOrgOnly: request.thisOrgOnly, sendTestMessage: request.sendTestMessage, signal };
  const result: TestEnableResult = { checks: [], untested: [], ownership: 'not_checked' };
  const block = await approvalBlockFor(store, mailbox, profile, config.organization);

  for (const name of DIRECTIONS) {
    if (!mailbox[name]) continue;
    const runner = directions.get(name);
    if (!runner) {
      result.untested.push({ direction: name, reason: `no ${name} direction is registered in this runner` });
      continue;
    }
    if (block) {
      // Not approved: the server is not contacted at all, as for a sync run.
      const entry = taxonomyEntry(block);
      result.checks.push({ direction: name, ok: false, steps: [], code: block, class: entry.class, scope: 'mailbox', message: entry.summary });
      continue;
    }
    const { ownership, ...check } = await runner.check(mailbox, profile, config, options);
    if (signal?.aborted) return result;
    result.checks.push(check);
    if (ownership) result.ownership = ownership;
  }

  await record(mailbox, profile, result, deps);
  log.info({ checks: result.checks.map((c) => ({ direction: c.direction, ok: c.ok, ...(c.ok ? {} : { code: c.code }) })) }, 'Test & Enable completed');
  return result;
}

/** The result and what it changes, in one transaction. */
async function record(mailbox: Mailbox, profile: Profile, result: TestEnableResult, { store, clock }: DirectionDeps): Promise<void> {
  const at = clock.now();
  await store.transaction(async (tx) => {
    for (const change of testChanges(result.checks)) {
      if (change.action === 'enable') {
        await tx.lifecycle.enable(mailbox.id, change.direction, at);
        continue;
      }
      const check = result.checks.find((c): c is Extract<DirectionCheck, { ok: false }> => c.direction === change.direction && !c.ok);
      const scope = check?.scope ?? 'mailbox';
      await recordFailure(tx, {
        mailboxId: mailbox.id, direction: change.direction, code: change.code, class: check?.class ?? 'permanent', scope,
        message: change.message, at, alerts: alertTargets(scope, mailbox.id, profile.id), disableBy: 'test-enable',
      });
    }
    await tx.lifecycle.setTestState(mailbox.id, 'completed', at, result);
    await tx.lifecycle.audit({ at, actor: 'system', role: 'system', action: 'test_enable_completed', mailboxId: mailbox.id, detail: { ...result } });
  });
}
