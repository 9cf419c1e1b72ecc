import type { Approval } from '@mailsync/contract';
import { TAXONOMY, type ErrorCode } from '../classify/index.js';
import type { Role } from '../config/index.js';

export type { Role };
export { APPROVALS, type Approval } from '@mailsync/contract';

export interface ApprovalRules {
  /** organization.processOnlyApproved: no mail is processed for a mailbox until it is approved. */
  processOnlyApproved: boolean;
  /** organization.requireAdminApprovalForTrustedProfiles: trusted profiles need an admin's approval. */
  requireAdminApprovalForTrustedProfiles: boolean;
}

export interface ApprovalState {
  approval: Approval;
  /** The role of whoever approved, so an operator's approval does not count for a trusted profile. */
  approvedByRole: Role | null;
}

/**
 * Why a mailbox may not be contacted yet, or null. A trusted profile (impersonation: one account
 * can read every mailbox) needs each address approved by an admin; otherwise, when the organization
 * processes only approved mailboxes, any approval will do.
 */
export function approvalBlock(state: ApprovalState, trustedProfile: boolean, rules: ApprovalRules): ErrorCode | null {
  if (trustedProfile && rules.requireAdminApprovalForTrustedProfiles) {
    return state.approval === 'approved' && state.approvedByRole === 'admin' ? null : 'admin_approval_required';
  }
  if (rules.processOnlyApproved && state.approval !== 'approved') return 'email_address_not_approved';
  return null;
}

/** Whether `role` may approve or reject a mailbox; the reason when it may not. */
export function mayDecideApproval(role: Role, trustedProfile: boolean, rules: ApprovalRules): { ok: true } | { ok: false; reason: string } {
  if (role === 'viewer') return { ok: false, reason: 'approving a mailbox needs the operator or admin role' };
  if (trustedProfile && rules.requireAdminApprovalForTrustedProfiles && role !== 'admin') {
    return { ok: false, reason: 'this mailbox uses a trusted (impersonation) profile: only an admin may approve it' };
  }
  return { ok: true };
}

/**
 * Codes that approval itself clears: once approved, a direction disabled for them is enabled again.
 * Read from the taxonomy's `reenabledBy`, which docs/taxonomy.md is generated from, so the page
 * and `approve` cannot disagree.
 */
export const APPROVAL_CODES: readonly ErrorCode[] = TAXONOMY.filter((e) => e.reenabledBy === 'approval').map((e) => e.code);

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/**
 * What a further approval by `role` does to a mailbox's recorded decision. It never overturns a
 * rejection (a person said no; only an approval of that one mailbox by its ID overturns it), and an
 * approval at least as strong as `role`'s is already there. Used by the config's declared approvals
 * and by the bulk approve, so that neither rewrites decisions made one by one.
 */
export function furtherApproval(state: ApprovalState, role: Role): 'apply' | 'already_approved' | 'rejected' {
  if (state.approval === 'rejected') return 'rejected';
  if (state.approval === 'approved' && state.approvedByRole !== null && RANK[state.approvedByRole] >= RANK[role]) return 'already_approved';
  return 'apply';
}
