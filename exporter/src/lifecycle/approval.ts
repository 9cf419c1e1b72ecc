import type { Config, Mailbox, Profile } from '../config/index.js';
import { approvalBlock, type ApprovalState } from '../policy/approval.js';
import type { Lifecycle, Store, StoreTx } from '../store/index.js';

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
  return approvalBlock(approvalOf(await store.lifecycle.get(mailbox.id)), isTrustedProfile(profile), organization);
}
