import type { Clock } from '../clock.js';
import type { Config, Mailbox, Profile } from '../config/index.js';
import { mayDecideApproval } from '../policy/approval.js';
import { mayRequestTest } from '../policy/test-enable.js';
import type { Direction, DirectionState, Store } from '../store/index.js';
import { isTrustedProfile, recordApproval } from '../lifecycle/approval.js';
import { approveMany, type ApprovalSelection, type BulkApprovalResult } from './bulk-approve.js';
import { OperationError, type Actor } from './operation-error.js';
import { DIRECTIONS, fleetViews, mailboxView, matches, type MailboxFilter, type MailboxView } from './view.js';

export { OperationError, type Actor };

export interface OperationsDeps {
  config: () => Config;
  store: Store;
  clock: Clock;
  /** Make the mailbox's next cycle due now (after approval). */
  wake: (mailboxId: string) => void;
  /** Queue a Test & Enable run (already recorded as scheduled). */
  startTest: (mailboxId: string) => void;
  /** Close a disabled mailbox's kept connection. */
  disconnect: (mailboxId: string) => void;
}

export const MAX_PAGE_SIZE = 500;

/**
 * What operators can do to mailboxes, shared by the admin API and the CLI (which calls the API).
 * Each mutation checks the actor's role, changes state, and is audited in the same transaction.
 */
export class MailboxOperations {
  readonly #d: OperationsDeps;

  constructor(deps: OperationsDeps) {
    this.#d = deps;
  }

  async list(filter: MailboxFilter, page: number, pageSize: number): Promise<{ total: number; page: number; pageSize: number; items: MailboxView[] }> {
    const all = (await fleetViews(this.#d.config(), this.#d.store, this.#d.clock.now())).filter((v) => matches(v, filter));
    const start = (page - 1) * pageSize;
    return { total: all.length, page, pageSize, items: all.slice(start, start + pageSize) };
  }

  async show(id: string) {
    const { mailbox } = this.#find(id);
    const store = this.#d.store;
    return {
      ...(await this.#view(mailbox)),
      alerts: await store.lifecycle.alerts('mailbox', id),
      runs: await store.runs.listRuns(id, 50),
      itemFailures: (await store.mail.listItemFailures(id)).slice(0, 100),
      audit: await store.lifecycle.auditLog(id, 50),
    };
  }

  async approve(id: string, actor: Actor, decision: 'approved' | 'rejected', comment?: string): Promise<MailboxView> {
    const { mailbox, profile } = this.#find(id);
    const allowed = mayDecideApproval(actor.role, isTrustedProfile(profile), this.#d.config().organization);
    if (!allowed.ok) throw new OperationError(403, allowed.reason);
    const at = this.#d.clock.now();
    await this.#d.store.transaction((tx) => recordApproval(tx, id, {
      decision, actor: actor.name, role: actor.role, action: decision === 'approved' ? 'approve' : 'reject', at,
      detail: comment ? { comment } : {},
    }));
    this.#d.wake(mailbox.id);
    return this.#view(mailbox);
  }

  /** Bulk "Approve Email": see approveMany; each approved mailbox's next cycle is due now. */
  async approveMany(selection: ApprovalSelection, actor: Actor, comment?: string): Promise<BulkApprovalResult> {
    const result = await approveMany({ config: this.#d.config(), store: this.#d.store, clock: this.#d.clock }, selection, actor, comment);
    for (const { id } of result.approved) this.#d.wake(id);
    return result;
  }

  async testEnable(id: string, actor: Actor, options: { thisOrganizationOnly: boolean; sendTestMessage: boolean }): Promise<MailboxView> {
    const { mailbox } = this.#find(id);
    if (actor.role === 'viewer') throw new OperationError(403, 'Test & Enable needs the operator or admin role');
    const { store } = this.#d;
    const at = this.#d.clock.now();
    // Checked inside the transaction: two requests at once must not both pass.
    await store.transaction(async (tx) => {
      const allowed = mayRequestTest((await tx.lifecycle.get(id)).test.state);
      if (!allowed.ok) throw new OperationError(409, allowed.reason);
      await tx.lifecycle.requestTest(id, actor.name, options.thisOrganizationOnly, at, options.sendTestMessage);
      await tx.lifecycle.audit({ at, actor: actor.name, role: actor.role, action: 'test_enable', mailboxId: id, detail: { ...options } });
    });
    this.#d.startTest(id);
    return this.#view(mailbox);
  }

  async disable(id: string, actor: Actor, options: { directions?: Direction[]; reason: string }): Promise<MailboxView> {
    const { mailbox } = this.#find(id);
    if (actor.role === 'viewer') throw new OperationError(403, 'disabling a mailbox needs the operator or admin role');
    const directions = options.directions ?? DIRECTIONS.filter((d) => mailbox[d]);
    const { store } = this.#d;
    const at = this.#d.clock.now();
    await store.transaction(async (tx) => {
      for (const d of directions) await tx.lifecycle.disable(id, d, { code: null, reason: options.reason, by: `operator:${actor.name}`, at });
      await tx.lifecycle.audit({ at, actor: actor.name, role: actor.role, action: 'disable', mailboxId: id, detail: { directions, reason: options.reason } });
    });
    this.#d.disconnect(id);
    return this.#view(mailbox);
  }

  /** A profile's alert records and the share of its mailboxes that failed in the last hour. */
  async profileAlerts(profileId: string) {
    const config = this.#d.config();
    const profile = config.profiles.find((p) => p.id === profileId);
    if (!profile) throw new OperationError(404, `no profile "${profileId}"`);
    const ids = config.mailboxes.filter((m) => m.profile === profileId).map((m) => m.id);
    const failing = await this.#d.store.lifecycle.countFailedSince(ids, this.#d.clock.now() - 3_600_000);
    return {
      profile: profile.id,
      owner: profile.owner ?? null,
      mailboxes: ids.length,
      failingLastHour: failing,
      failingShare: ids.length === 0 ? 0 : failing / ids.length,
      alerts: await this.#d.store.lifecycle.alerts('profile', profileId),
    };
  }

  #find(id: string): { mailbox: Mailbox; profile: Profile } {
    const config = this.#d.config();
    const mailbox = config.mailboxes.find((m) => m.id === id);
    if (!mailbox) throw new OperationError(404, `no mailbox "${id}"`);
    return { mailbox, profile: config.profiles.find((p) => p.id === mailbox.profile) as Profile };
  }

  async #view(mailbox: Mailbox): Promise<MailboxView> {
    const states = new Map<Direction, DirectionState>();
    for (const d of DIRECTIONS) {
      const s = await this.#d.store.runs.getDirectionState(mailbox.id, d);
      if (s) states.set(d, s);
    }
    return mailboxView(mailbox, states, await this.#d.store.lifecycle.get(mailbox.id), this.#d.config(), this.#d.clock.now());
  }
}
