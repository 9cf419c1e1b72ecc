import { classifyError, taxonomyEntry } from '../classify/index.js';
import type { Clock } from '../clock.js';
import type { Config, Mailbox, Profile } from '../config/index.js';
import type { Logger } from '../log.js';
import { testChanges, type DirectionCheck } from '../policy/test-enable.js';
import type { Autodiscover } from '../protocols/autodiscover.js';
import { ImapSession } from '../protocols/imap.js';
import type { Store } from '../store/index.js';
import { foreignOwner, resolveEndpoint } from './connect.js';
import { rawError } from './run-record.js';
import { loginFor } from './login.js';
import { approvalBlockFor } from './runner.js';
import { testOutgoing } from './test-outgoing.js';

export interface TestEnableDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  autodiscover: Autodiscover | undefined;
  /** Aborted when the runner stops: the request stays in the store and runs again at the next start. */
  signal?: AbortSignal;
}

export interface TestEnableResult {
  checks: (DirectionCheck & { latencyMs?: number })[];
  /** Directions the mailbox is configured for that this version cannot test yet. */
  untested: { direction: string; reason: string }[];
  /** What happened to the ownership mark: kept ours, took it over, or the server cannot store one. */
  ownership: 'marked' | 'taken_over' | 'unsupported' | 'not_checked';
}

/**
 * Test & Enable for one mailbox: for each configured direction, connect, secure the channel,
 * authenticate and open every folder; mark the mailbox as this organization's (taking it over
 * from another one only when asked). Directions that pass are enabled with a fresh retry budget,
 * the others are disabled with the failure's code. The request must already be recorded as
 * scheduled; this records running, then completed with the result.
 */
export async function runTestEnable(
  mailbox: Mailbox, profile: Profile, config: Pick<Config, 'organization'>, deps: TestEnableDeps,
): Promise<TestEnableResult> {
  const { store, clock } = deps;
  const log = deps.logger.child({ mailbox: mailbox.id, profile: profile.id, task: 'test-enable' });
  store.lifecycle.setTestState(mailbox.id, 'running', clock.now());
  const thisOrgOnly = store.lifecycle.get(mailbox.id).test.thisOrgOnly;
  const result: TestEnableResult = { checks: [], untested: [], ownership: 'not_checked' };

  if (mailbox.incoming) {
    const { check, ownership } = await testIncoming(mailbox, profile, config.organization, thisOrgOnly, deps);
    // Stopped half-way: record nothing; the request is still "running" and resumes at the next start.
    if (deps.signal?.aborted) return result;
    result.checks.push(check);
    result.ownership = ownership;
  }
  if (mailbox.outgoing) {
    const check = await testOutgoing(mailbox, profile, config, store.lifecycle.get(mailbox.id).test.sendTestMessage, deps);
    if (deps.signal?.aborted) return result;
    result.checks.push(check);
  }
  if (mailbox.act) result.untested.push({ direction: 'act', reason: 'appointments, contacts and tasks are not built yet in this version' });

  const at = clock.now();
  store.db.transaction(() => {
    for (const change of testChanges(result.checks)) {
      if (change.action === 'enable') {
        store.lifecycle.enable(mailbox.id, change.direction);
        continue;
      }
      const check = result.checks.find((c) => c.direction === change.direction);
      const scope = check && !check.ok ? check.scope : 'mailbox';
      const cls = check && !check.ok ? check.class : 'permanent';
      const record = { direction: change.direction, code: change.code, class: cls, scope, mailboxId: mailbox.id, message: change.message, at };
      store.lifecycle.recordAlert({ ...record, objectType: 'mailbox', objectId: mailbox.id });
      if (scope === 'server') store.lifecycle.recordAlert({ ...record, objectType: 'profile', objectId: profile.id });
      store.lifecycle.disable(mailbox.id, change.direction, { code: change.code, reason: change.message, by: 'test-enable', at });
    }
    store.lifecycle.setTestState(mailbox.id, 'completed', at, result);
    store.lifecycle.audit({ at, actor: 'system', role: 'system', action: 'test_enable_completed', mailboxId: mailbox.id, detail: { ...result } });
  })();
  log.info({ checks: result.checks.map((c) => ({ direction: c.direction, ok: c.ok, ...(c.ok ? {} : { code: c.code }) })) }, 'Test & Enable completed');
  return result;
}

async function testIncoming(
  mailbox: Mailbox, profile: Profile, organization: Config['organization'], thisOrgOnly: boolean, deps: TestEnableDeps,
): Promise<{ check: DirectionCheck; ownership: TestEnableResult['ownership'] }> {
  const steps: string[] = [];
  let ownership: TestEnableResult['ownership'] = 'not_checked';
  const block = approvalBlockFor(deps.store, mailbox, profile, organization);
  if (block) {
    const entry = taxonomyEntry(block);
    return { check: { direction: 'incoming', ok: false, steps, code: block, class: entry.class, scope: 'mailbox', message: entry.summary }, ownership };
  }
  let session: ImapSession | undefined;
  try {
    const endpoint = await resolveEndpoint(mailbox, profile, deps.autodiscover);
    steps.push(`located ${endpoint.host}:${endpoint.port}`);
    session = await ImapSession.open(endpoint, loginFor(mailbox, profile).login, organization, deps.logger, deps.signal);
    steps.push(endpoint.security === 'none' ? 'connected without TLS (allowed by the organization)' : 'connected over TLS', 'authenticated');
    if (session.supportsMetadata) {
      const owner = await session.getOwnerMark();
      if (owner !== null && owner !== organization.id && !thisOrgOnly) throw foreignOwner(mailbox, owner);
      if (owner !== organization.id) await session.setOwnerMark(organization.id);
      ownership = owner !== null && owner !== organization.id ? 'taken_over' : 'marked';
      steps.push(ownership === 'taken_over' ? `took ownership over from "${owner}"` : 'ownership marked');
    } else {
      ownership = 'unsupported';
      steps.push('server has no METADATA: ownership not marked');
    }
    for (const folder of mailbox.folders) {
      await session.examine(folder);
      await session.leaveFolder();
      steps.push(`opened ${folder}`);
    }
    return { check: { direction: 'incoming', ok: true, steps }, ownership };
  } catch (error) {
    const c = classifyError(error, { direction: 'incoming', credentialSource: loginFor(mailbox, profile).source });
    if (!c.recognised && !deps.signal?.aborted) deps.logger.warn({ mailbox: mailbox.id, err: rawError(error) }, 'unrecognised error, classified as internal_error: please report it so it can be classified');
    return { check: { direction: 'incoming', ok: false, steps, code: c.code, class: c.class, scope: c.scope, message: c.message }, ownership };
  } finally {
    await session?.close();
  }
}
