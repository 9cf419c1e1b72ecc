import { leadDirection } from '../leases/wanted.js';
import type { Direction } from '../store/index.js';
import type { Fleet, FleetInput } from './fleet.js';

type Holds = (mailboxId: string, direction: Direction) => boolean;

/**
 * B: the part of the fleet whose per-mailbox series this runner writes: with several runners on
 * one store each would otherwise serve every mailbox's series, and a sum over runners would count
 * each mailbox once per runner. A direction's series come from its lease holder; the mailbox-wide
 * ones (info, health, Test & Enable, queue) from the holder of its lead direction (leases/wanted.ts).
 * One runner on SQLite holds every lease, so nothing is left out there.
 */
export function heldOnly(fleet: Fleet, input: FleetInput, holds: Holds): { fleet: Fleet; input: FleetInput } {
  const lead = new Set<string>();
  const mailboxes = fleet.mailboxes.flatMap((m) => {
    const entries = m.entries.filter((e) => holds(m.mailbox.id, e.direction));
    if (holds(m.mailbox.id, leadDirection(m.mailbox))) lead.add(m.mailbox.id);
    return entries.length > 0 || lead.has(m.mailbox.id) ? [{ ...m, entries, lead: lead.has(m.mailbox.id) }] : [];
  });
  const kept: FleetInput = {
    ...input,
    errors: input.errors.filter((e) => holds(e.mailboxId, e.direction as Direction)),
    itemFailures: input.itemFailures.filter((f) => holds(f.mailboxId, f.direction as Direction)),
    queue: input.queue.filter((q) => lead.has(q.mailboxId)),
  };
  return { fleet: { ...fleet, mailboxes }, input: kept };
}
