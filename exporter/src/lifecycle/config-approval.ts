import type { Config } from '../config/index.js';
import { furtherApproval } from '../policy/approval.js';
import type { Store } from '../store/index.js';
import { approvalOf, lifecyclesOf, recordApproval } from './approval.js';

export interface ConfigApprovalOutcome {
  /** Mailboxes approved now, with the directions an approval code had disabled and are enabled again. */
  approved: { id: string; reenabled: string[] }[];
  /** Declared approved, but rejected through the API: the rejection stands. */
  rejected: { id: string; by: string | null; declaredAt: string }[];
}

/**
 * Applies the approvals the config declares, in one transaction, before any mailbox is contacted
 * (at start, and on reload for new declarations). A declaration records the approver it names,
 * audited as `approve_from_config`. It never overturns a rejection made through the API: the file
 * says what an administrator vouched for once, a rejection is a later decision about one mailbox.
 * A mailbox already approved at least as strongly is left as it is, so restarts write nothing.
 */
export async function applyConfigApprovals(store: Store, config: Config, at: number): Promise<ConfigApprovalOutcome> {
  const outcome: ConfigApprovalOutcome = { approved: [], rejected: [] };
  const declared = config.mailboxes.filter((m) => m.approval !== undefined);
  if (declared.length === 0) return outcome;
  await store.transaction(async (tx) => {
    const lifecycleOf = await lifecyclesOf(tx);
    for (const mailbox of declared) {
      const approval = mailbox.approval!;
      const lifecycle = lifecycleOf(mailbox.id);
      const effect = furtherApproval(approvalOf(lifecycle), approval.role);
      if (effect === 'rejected') outcome.rejected.push({ id: mailbox.id, by: lifecycle.approvalBy, declaredAt: approval.declaredAt });
      if (effect !== 'apply') continue;
      const reenabled = await recordApproval(tx, mailbox.id, {
        decision: 'approved', actor: approval.approvedBy, role: approval.role, action: 'approve_from_config', at,
        detail: { config: config.file, key: approval.declaredAt },
      });
      outcome.approved.push({ id: mailbox.id, reenabled });
    }
  });
  return outcome;
}
