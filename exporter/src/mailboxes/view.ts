import { DIRECTIONS } from '@mailsync/contract';
import { taxonomyEntry, isErrorCode } from '../classify/index.js';
import type { Config, Mailbox } from '../config/index.js';
import type { Ownership } from '../directions/contract.js';
import { healthOf, type Health } from '../policy/health.js';
import { retriesLeft } from '../policy/retry.js';
import type { Store } from '../store/index.js';
import { emptyLifecycle, type Direction, type DirectionState, type Lifecycle } from '../store/types.js';

export { DIRECTIONS } from '@mailsync/contract';

type ViewConfig = Pick<Config, 'organization' | 'metrics'>;

/**
 * Shown wherever the mailbox is shown when its server cannot store the ownership mark: without
 * RFC 5464 METADATA another deployment syncing the same mailbox goes unnoticed, so
 * `configured_in_another_org` can never fire for it. Easy to miss in a list of steps, hence a
 * warning of its own.
 */
export const OWNERSHIP_UNSUPPORTED = 'ownership not supported by this server: the mailbox cannot be marked as this organization\'s, '
  + 'so another deployment syncing it would go unnoticed (configured_in_another_org cannot fire); the server needs IMAP METADATA (RFC 5464)';

export interface DirectionView {
  configured: boolean;
  /** Configured and not disabled. */
  enabled: boolean;
  status: DirectionState['status'];
  disabled: { code: string | null; reason: string | null; by: string | null; at: number | null } | null;
  lastError: { code: string; class: string | null; scope: string | null; message: string | null; at: number | null; runbook: string | null } | null;
  lastSuccessAt: number | null;
  lastFailureAt: number | null;
  consecutiveFailures: number;
  retriesLeft: number;
  runs: { success: number; failure: number; aborted: number };
  retriesTotal: number;
  nextAttemptAt: number | null;
  itemsProcessedTotal: number;
  itemsFailedTotal: number;
}

/** What the API and the CLI show for a mailbox. Built from config and store; holds no secret. */
export interface MailboxView {
  id: string;
  address: string;
  profile: string;
  health: Health;
  approval: { state: Lifecycle['approval']; by: string | null; role: string | null; at: number | null };
  testEnable: Lifecycle['test'];
  /** What the last completed Test & Enable found about the ownership mark; null before one completed. */
  ownership: Ownership | null;
  /** Things about the mailbox a person must know that no failure says (OWNERSHIP_UNSUPPORTED). */
  warnings: string[];
  directions: Record<Direction, DirectionView>;
}

export function mailboxView(
  mailbox: Mailbox, states: Map<Direction, DirectionState>, lifecycle: Lifecycle, config: ViewConfig, now: number,
): MailboxView {
  const directions = Object.fromEntries(DIRECTIONS.map((d) => [d, directionView(mailbox[d], states.get(d), config)])) as Record<Direction, DirectionView>;
  const health = healthOf({
    testState: lifecycle.test.state,
    directions: DIRECTIONS.map((d) => {
      const v = directions[d];
      const s = states.get(d);
      return { configured: v.configured, status: v.status, disabled: v.disabled !== null, disabledCode: v.disabled?.code ?? null, consecutiveFailures: v.consecutiveFailures, lastFailureAt: s?.lastFailureAt ?? null };
    }),
  }, now, config.metrics.intermittentWindowSeconds * 1_000);
  const ownership = ownershipOf(lifecycle.test.result);
  return {
    id: mailbox.id,
    address: mailbox.address,
    profile: mailbox.profile,
    health,
    approval: { state: lifecycle.approval, by: lifecycle.approvalBy, role: lifecycle.approvalRole, at: lifecycle.approvalAt },
    testEnable: lifecycle.test,
    ownership,
    warnings: ownership === 'unsupported' ? [OWNERSHIP_UNSUPPORTED] : [],
    directions,
  };
}

const OWNERSHIPS: readonly Ownership[] = ['marked', 'taken_over', 'unsupported', 'not_checked'];

/** The stored result is JSON from an older or newer version too: read the field, trust nothing else. */
function ownershipOf(result: unknown): Ownership | null {
  const value = typeof result === 'object' && result !== null ? (result as { ownership?: unknown }).ownership : undefined;
  return OWNERSHIPS.find((o) => o === value) ?? null;
}

function directionView(configured: boolean, s: DirectionState | undefined, config: ViewConfig): DirectionView {
  const max = config.organization.retry.maxTransientRetries;
  const code = s?.lastErrorCode ?? null;
  return {
    configured,
    enabled: configured && !(s?.disabled ?? false),
    status: s?.status ?? 'not_run',
    disabled: s?.disabled ? { code: s.disabledCode, reason: s.disabledReason, by: s.disabledBy, at: s.disabledAt } : null,
    lastError: code === null ? null : {
      code, class: s?.lastErrorClass ?? null, scope: s?.lastErrorScope ?? null, message: s?.lastErrorMessage ?? null,
      at: s?.lastFailureAt ?? null, runbook: isErrorCode(code) ? taxonomyEntry(code).runbook : null,
    },
    lastSuccessAt: s?.lastSuccessAt ?? null,
    lastFailureAt: s?.lastFailureAt ?? null,
    consecutiveFailures: s?.consecutiveFailures ?? 0,
    runs: { success: s?.runsSuccessTotal ?? 0, failure: s?.runsFailureTotal ?? 0, aborted: s?.runsAbortedTotal ?? 0 },
    retriesTotal: s?.retriesTotal ?? 0,
    // The first failure is not a retry; each one after it uses one of the budget.
    retriesLeft: retriesLeft(s?.consecutiveFailures ?? 0, max),
    nextAttemptAt: s?.nextAttemptAt ?? null,
    itemsProcessedTotal: s?.itemsProcessedTotal ?? 0,
    itemsFailedTotal: s?.itemsFailedTotal ?? 0,
  };
}

/**
 * Every configured mailbox's view, from two queries: what the scrape, the status page and the
 * API's list are built from. Rows of mailboxes no longer in the config are ignored.
 */
export async function fleetViews(config: ViewConfig & Pick<Config, 'mailboxes'>, store: Store, now: number): Promise<MailboxView[]> {
  const states = new Map<string, Map<Direction, DirectionState>>();
  for (const s of await store.runs.listDirectionStates()) {
    let m = states.get(s.mailboxId);
    if (!m) states.set(s.mailboxId, (m = new Map()));
    m.set(s.direction, s);
  }
  const lifecycles = new Map((await store.lifecycle.list()).map((l) => [l.mailboxId, l]));
  return config.mailboxes.map((m) => mailboxView(m, states.get(m.id) ?? NO_STATES, lifecycles.get(m.id) ?? emptyLifecycle(m.id), config, now));
}

const NO_STATES = new Map<Direction, DirectionState>();

export interface MailboxFilter {
  /** enabled: every configured direction enabled; disabled: at least one disabled. */
  state?: 'enabled' | 'disabled';
  health?: Health;
  profile?: string;
  approval?: Lifecycle['approval'];
  /** Case-insensitive substring of the id or the address. */
  q?: string;
}

export function matches(v: MailboxView, f: MailboxFilter): boolean {
  if (f.profile !== undefined && v.profile !== f.profile) return false;
  if (f.health !== undefined && v.health !== f.health) return false;
  if (f.approval !== undefined && v.approval.state !== f.approval) return false;
  if (f.state !== undefined) {
    const anyDisabled = DIRECTIONS.some((d) => v.directions[d].configured && v.directions[d].disabled !== null);
    if ((f.state === 'disabled') !== anyDisabled) return false;
  }
  if (f.q !== undefined && f.q !== '') {
    const q = f.q.toLowerCase();
    if (!v.id.toLowerCase().includes(q) && !v.address.includes(q)) return false;
  }
  return true;
}
