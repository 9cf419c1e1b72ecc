import type { Clock } from '../clock.js';
import type { Config } from '../config/index.js';
import { approvalOf, isTrustedProfile, lifecyclesOf, recordApproval } from '../lifecycle/approval.js';
import { furtherApproval, mayDecideApproval } from '../policy/approval.js';
import type { Store } from '../store/index.js';
import { OperationError, type Actor } from './operation-error.js';

/** Which mailboxes a bulk approve is about: exactly one of the three. */
export interface ApprovalSelection {
  ids?: string[];
  profile?: string;
  all?: boolean;
}

export interface BulkApprovalResult {
  approved: { id: string; reenabled: string[] }[];
  /** Already approved by this role or a stronger one: nothing written. */
  alreadyApproved: string[];
  refused: { id: string; reason: string }[];
}

export interface BulkApprovalDeps {
  config: Config;
  store: Store;
  clock: Clock;
}

/**
 * The product's bulk "Approve Email" on a selection of mailboxes, shared by the API route and the
 * offline `mailsync mailboxes approve --config`. Each mailbox is judged as a single approval is
 * (a trusted profile needs an admin), a rejected one is left to a decision by its ID, and every
 * approval is audited; all of it is one transaction.
 */
export async function approveMany(deps: BulkApprovalDeps, selection: ApprovalSelection, actor: Actor, comment?: string): Promise<BulkApprovalResult> {
  const { config, store } = deps;
  const ids = selectedIds(config, selection);
  const at = deps.clock.now();
  const result: BulkApprovalResult = { approved: [], alreadyApproved: [], refused: [] };
  // Maps, not scans: a selection can be the whole fleet.
  const mailboxes = new Map(config.mailboxes.map((m) => [m.id, m]));
  const profiles = new Map(config.profiles.map((p) => [p.id, p]));
  await store.transaction(async (tx) => {
    const lifecycleOf = await lifecyclesOf(tx);
    for (const id of ids) {
      const mailbox = mailboxes.get(id);
      const profile = mailbox && profiles.get(mailbox.profile);
      if (!mailbox || !profile) {
        result.refused.push({ id, reason: `no mailbox "${id}" in the config` });
        continue;
      }
      const allowed = mayDecideApproval(actor.role, isTrustedProfile(profile), config.organization);
      if (!allowed.ok) {
        result.refused.push({ id, reason: allowed.reason });
        continue;
      }
      const lifecycle = lifecycleOf(id);
      const effect = furtherApproval(approvalOf(lifecycle), actor.role);
      if (effect === 'rejected') {
        result.refused.push({ id, reason: `rejected by ${lifecycle.approvalBy ?? 'someone'}: approve it by its ID to overturn the rejection` });
      } else if (effect === 'already_approved') {
        result.alreadyApproved.push(id);
      } else {
        const reenabled = await recordApproval(tx, id, {
          decision: 'approved', actor: actor.name, role: actor.role, action: 'approve', at,
          detail: { bulk: selectionWords(selection), ...(comment ? { comment } : {}) },
        });
        result.approved.push({ id, reenabled });
      }
    }
  });
  return result;
}

/** The mailbox ids a selection names, in config order (listed ids in their own order). */
export function selectedIds(config: Config, selection: ApprovalSelection): string[] {
  const given = [selection.ids !== undefined, selection.profile !== undefined, selection.all === true].filter(Boolean).length;
  if (given !== 1) throw new OperationError(400, 'name the mailboxes to approve with exactly one of ids, profile or all: true');
  if (selection.ids) {
    if (selection.ids.length === 0) throw new OperationError(400, 'ids: the list is empty');
    return [...new Set(selection.ids)];
  }
  if (selection.profile !== undefined) {
    const profile = selection.profile;
    if (!config.profiles.some((p) => p.id === profile)) throw new OperationError(404, `profile: no profile "${profile}"`);
    return config.mailboxes.filter((m) => m.profile === profile).map((m) => m.id);
  }
  return config.mailboxes.map((m) => m.id);
}

/** How the audit log says which bulk approval this was. */
function selectionWords(selection: ApprovalSelection): string {
  if (selection.profile !== undefined) return `profile ${selection.profile}`;
  return selection.all ? 'all' : 'ids';
}
