import path from 'node:path';
import { systemClock, type Clock } from '../../exporter/src/clock.js';
import type { Config } from '../../exporter/src/config/index.js';
import { createLogger } from '../../exporter/src/log.js';
import { createAutodiscover } from '../../exporter/src/protocols/autodiscover.js';
import { Store } from '../../exporter/src/store/index.js';
import { runIncomingCycle, type CycleOutcome } from '../../exporter/src/sync/cycle.js';
import { EmailOperations, type NewEmail } from '../../exporter/src/mailboxes/emails.js';
import { SmtpTransports } from '../../exporter/src/protocols/smtp.js';
import { runOutgoingCycle } from '../../exporter/src/sync/outgoing.js';
import { runScheduled, runScheduledIncoming } from '../../exporter/src/sync/runner.js';
import { SessionPool } from '../../exporter/src/sync/sessions.js';
import { runTestEnable } from '../../exporter/src/sync/test-enable.js';
import { writeLabConfig, type LabOptions } from './config.js';
import type { Dovecot } from './dovecot.js';

const silent = createLogger('silent');

/**
 * A lab whose cycles run in this process with the production code against real servers: config
 * written as YAML and loaded by the real loader, a real store in a temporary folder, a session pool.
 */
export function openLab(dovecot: Dovecot, options: LabOptions, clock: Clock = systemClock) {
  const { config, dir } = writeLabConfig(dovecot, options);
  const store = new Store({ path: path.join(dir, 'mailsync.db') });
  const sessions = new SessionPool((p) => config.profiles.find((x) => x.id === p)?.maxConnections ?? 1);
  const autodiscover = createAutodiscover(config.autodiscover, clock);
  const transports = new SmtpTransports();
  const deps = { store, clock, logger: silent, sessions, autodiscover };
  const emails = new EmailOperations({ config: () => config, store, clock, wakeOutgoing: () => undefined });
  const find = (id: string) => {
    const mailbox = config.mailboxes.find((m) => m.id === id);
    if (!mailbox) throw new Error(`no mailbox ${id} in the lab`);
    return { mailbox, profile: config.profiles.find((p) => p.id === mailbox.profile)! };
  };
  return {
    config,
    store,
    sessions,
    /** One incoming cycle, without the lifecycle gate. */
    cycle(id: string, signal?: AbortSignal): Promise<CycleOutcome> {
      const { mailbox, profile } = find(id);
      return runIncomingCycle(mailbox, profile, config as Config, deps, signal);
    },
    /** One scheduled turn: the gate, then the cycle when allowed. */
    turn(id: string) {
      const { mailbox, profile } = find(id);
      return runScheduledIncoming(mailbox, profile, config, deps);
    },
    /** Queues an email from a mailbox as the API does. */
    async queue(id: string, email: Partial<NewEmail> & { to: string[] }) {
      const { email: view } = await emails.queue(id, { name: 'test', role: 'operator' }, {
        cc: [], bcc: [], subject: 'lab email', text: 'hello', html: undefined, attachments: [], ...email,
      });
      return view;
    },
    /** One scheduled outgoing turn: the gate, then the outgoing cycle when allowed. */
    send(id: string) {
      const { mailbox, profile } = find(id);
      return runScheduled({
        direction: 'outgoing', mailbox, profile, organization: config.organization, store, clock, logger: silent,
        disconnect: () => undefined, cycle: () => runOutgoingCycle(mailbox, profile, config, { ...deps, transports }),
      });
    },
    email(id: number) {
      return { ...store.outgoing.get(id)!, history: store.outgoing.history(id) };
    },
    /** Test & Enable as the service runs it (the request is recorded first, as the API does). */
    testEnable(id: string, thisOrgOnly = false, sendTestMessage = false) {
      const { mailbox, profile } = find(id);
      store.lifecycle.requestTest(id, 'test', thisOrgOnly, clock.now(), sendTestMessage);
      return runTestEnable(mailbox, profile, config, { store, clock, logger: silent, autodiscover });
    },
    state(id: string) {
      return store.getDirectionState(id, 'incoming');
    },
    async close() {
      transports.closeAll();
      await sessions.closeAll();
      store.close();
    },
  };
}

export type Lab = ReturnType<typeof openLab>;

/** A clock the test moves by hand. */
export function manualClock(start = Date.UTC(2026, 10, 28, 12)): Clock & { set(t: number): void } {
  let t = start;
  return { now: () => t, set: (v: number) => { t = v; } };
}
