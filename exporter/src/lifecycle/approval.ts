import { DIRECTIONS, type Direction } from '@mailsync/contract';
import type { Config, Mailbox, Profile, Role } from '../config/index.js';
import { APPROVAL_CODES, approvalBlock, type ApprovalState } from '../policy/approval.js';
import { emptyLifecycle, type Lifecycle, type Store, type StoreTx } from '../store/index.js';

/** A profile whose one account can read every mailbox: each address needs an admin's approval. */
export function isTrustedProfile(profile: Profile): boolean {
  return profile.auth.mode === 'impersonation';
}

export function approvalOf(lifecycle: Lifecycle): ApprovalState {
  const role = lifecycle.approvalRole;
  return { approval: lifecycle.approval, approvedByRole: role === 'admin' || role === 'operator' || role === 'viewer' ? role : null };
}

/** Why the mailbox may not be contacted yet (an approval code), or null. */
export async function approvalBlockFor(store: Store | StoreTx, mailbox: Mailbox, profile: Profile, organization: Config['organization']) {
  return approvalBlockOf(await store.lifecycle.get(mailbox.id), profile, organization);
}

/** The same from a lifecycle already read (the turn's gate reads it with the direction's state). */
export function approvalBlockOf(lifecycle: Lifecycle, profile: Profile, organization: Config['organization']) {
  return approvalBlock(approvalOf(lifecycle), isTrustedProfile(profile), organization);
}

/** Every mailbox's lifecycle in one read: a bulk decision looks at the whole fleet, not one row at a time. */
export async function lifecyclesOf(tx: StoreTx): Promise<(mailboxId: string) => Lifecycle> {
  const byId = new Map((await tx.lifecycle.list()).map((l) => [l.mailboxId, l]));
  return (mailboxId) => byId.get(mailboxId) ?? emptyLifecycle(mailboxId);
}

export interface ApprovalDecision {
  decision: 'approved' | 'rejected';
  /** Who decided: an API token's name, the approver the config names, or the local user. */
  actor: string;
  role: Role;
  /** The audit action: approve, reject, approve_from_config. */
  action: string;
  at: number;
  detail?: Record<string, unknown>;
}

/**
 * Records an approval decision and its audit entry inside the caller's transaction. An approval
 * removes the cause of an approval disable, so those directions are enabled again (returned).
 * Every way of approving (API, bulk, config, offline CLI) goes through here.
 */
export async function recordApproval(tx: StoreTx, mailboxId: string, d: ApprovalDecision): Promise<Direction[]> {
  await tx.lifecycle.setApproval(mailboxId, d.decision, d.actor, d.role, d.at);
  const reenabled: Direction[] = [];
  if (d.decision === 'approved') {
    for (const direction of DIRECTIONS) {
      const s = await tx.runs.getDirectionState(mailboxId, direction);
      if (s?.disabled && s.disabledCode !== null && (APPROVAL_CODES as readonly string[]).includes(s.disabledCode)) {
        await tx.lifecycle.enable(mailboxId, direction, d.at);
        reenabled.push(direction);
      }
    }
  }
  await tx.lifecycle.audit({ at: d.at, actor: d.actor, role: d.role, action: d.action, mailboxId, detail: { ...d.detail, reenabled } });
  return reenabled;
}
