import type { DirectionDeps, DirectionRunner } from '../directions/contract.js';
import { SmtpTransports } from '../protocols/smtp.js';
import { checkOutgoing } from './check.js';
import { outgoingCycle } from './cycle.js';

/**
 * The outgoing direction: the Pending Send queue sent over SMTP, pooled per login. It has its own
 * schedule (a scan every sync.outgoing.scanIntervalSeconds, and at once when an email is queued)
 * and the profile's SMTP connection limit.
 */
export function createOutgoing(deps: DirectionDeps): DirectionRunner {
  const transports = new SmtpTransports();
  return {
    name: 'outgoing',
    intervalMs: (config) => config.sync.outgoing.scanIntervalSeconds * 1_000,
    groupLimit: (profile) => profile.outgoing?.maxConnections ?? 1,
    cycle: (mailbox, profile, config, signal) => outgoingCycle(mailbox, profile, config, { ...deps, transports }, signal),
    check: (mailbox, profile, config, options) => checkOutgoing(mailbox, profile, config, options, deps),
    // SMTP connections are pooled per login, not per mailbox: nothing is kept for one mailbox alone.
    release: () => undefined,
    closeIdle: () => transports.closeAll(),
    close: async () => transports.closeAll(),
  };
}
