import type { Config } from '../config/index.js';
import { applyConfigApprovals } from '../lifecycle/config-approval.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/index.js';

/** Applies the config's declared approvals and says what happened; returns the mailboxes approved now. */
export async function approveFromConfig(store: Store, config: Config, at: number, logger: Logger): Promise<string[]> {
  const outcome = await applyConfigApprovals(store, config, at);
  for (const r of outcome.rejected) {
    logger.warn(
      { mailbox: r.id, rejectedBy: r.by, key: r.declaredAt },
      'the config approves this mailbox but it was rejected through the API: the rejection stands (approve it by its ID to overturn it)',
    );
  }
  if (outcome.approved.length > 0) {
    logger.info({ approved: outcome.approved.length, config: config.file }, 'approved mailboxes declared approved in the config');
  }
  return outcome.approved.map((a) => a.id);
}
