import path from 'node:path';
import { TokenProvider } from '../../exporter/src/auth/tokens.js';
import { systemClock, type Clock } from '../../exporter/src/clock.js';
import type { Config } from '../../exporter/src/config/index.js';
import type { DirectionDeps } from '../../exporter/src/directions/contract.js';
import { createDirections } from '../../exporter/src/directions/registry.js';
import { runCycle, type CycleOutcome } from '../../exporter/src/directions/run.js';
import { createTurn } from '../../exporter/src/directions/turn.js';
import type { IncomingRunner } from '../../exporter/src/incoming/index.js';
import { createLogger } from '../../exporter/src/log.js';
import { EmailOperations, type NewEmail } from '../../exporter/src/mailboxes/emails.js';
import { isRetryAttempt } from '../../exporter/src/policy/retry.js';
import { createAutodiscover } from '../../exporter/src/protocols/autodiscover.js';
import { openStore } from '../../exporter/src/store/index.js';
import { runTestEnable } from '../../exporter/src/test-enable/run.js';
import { writeLabConfig, type LabOptions } from './config.js';
import type { Dovecot } from './dovecot.js';

const silent = createLogger('silent');

/**
 * A lab whose cycles run in this process with the production code against real servers: config
 * written as YAML and loaded by the real loader, a real store in a temporary folder, and the
 * service's own directions and turn factory.
 */
export async function openLab(dovecot: Dovecot, options: LabOptions, clock: Clock = systemClock, extra: { wake?: DirectionDeps['wake'] } = {}) {
  const { config, dir } = writeLabConfig(dovecot, options);
  const store = await openStore({ path: path.join(dir, 'mailsync.db') });
  const autodiscover = createAutodiscover(config.autodiscover, clock);
  const tokens = new TokenProvider({ store, clock, logger: silent, encryptionKey: () => config.store.encryptionKey });
  // `extra.wake`: what the service's schedulers do when IDLE reports new mail (push tests watch it).
  const deps: DirectionDeps = { store, clock, logger: silent, autodiscover: () => autodiscover, tokens, ...(extra.wake ? { wake: extra.wake } : {}) };
  const directions = createDirections(deps, (p) => config.profiles.find((x) => x.id === p)?.maxConnections ?? 1);
  // The registry's incoming entry is createIncoming's, whose session pool the tests look at.
  const incoming = directions.get('incoming') as IncomingRunner;
  const outgoing = directions.get('outgoing')!;
  const turns = { incoming: createTurn(incoming, () => config, deps), outgoing: createTurn(outgoing, () => config, deps) };
  const emails = new EmailOperations({ config: () => config, store, clock, wakeOutgoing: () => undefined });
  const find = (id: string) => {
    const mailbox = config.mailboxes.find((m) => m.id === id);
    if (!mailbox) throw new Error(`no mailbox ${id} in the lab`);
    return { mailbox, profile: config.profiles.find((p) => p.id === mailbox.profile)! };
  };
  return {
    config,
    store,
    /** One incoming cycle with its run record, without the lifecycle gate. */
    async cycle(id: string, signal?: AbortSignal): Promise<CycleOutcome> {
      const { mailbox, profile } = find(id);
      const state = await store.runs.getDirectionState(id, 'incoming');
      return runCycle(incoming, mailbox, profile, config as Config, deps, { retry: isRetryAttempt(state?.consecutiveFailures ?? 0), signal });
    },
    /** One scheduled turn: the gate, then the cycle when allowed. */
    turn(id: string) {
      const { mailbox, profile } = find(id);
      return turns.incoming(mailbox, profile);
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
      return turns.outgoing(mailbox, profile);
    },
    async email(id: number) {
      return { ...(await store.outgoing.get(id))!, history: await store.outgoing.history(id) };
    },
    /** Test & Enable as the service runs it (the request is recorded first, as the API does). */
    async testEnable(id: string, thisOrgOnly = false, sendTestMessage = false) {
      const { mailbox, profile } = find(id);
      await store.lifecycle.requestTest(id, 'test', thisOrgOnly, clock.now(), sendTestMessage);
      return runTestEnable(mailbox, profile, config, directions, deps);
    },
    state(id: string) {
      return store.runs.getDirectionState(id, 'incoming');
    },
    /** The OAuth2 token cache the lab's directions share. */
    tokens,
    /** The incoming direction's kept IMAP sessions. */
    sessions: incoming.sessions,
    async close() {
      await Promise.all([...directions.values()].map((d) => d.close()));
      await store.close();
    },
  };
}

export type Lab = Awaited<ReturnType<typeof openLab>>;

/** Runs `body` on the lab being opened, and closes the lab whatever happens. */
export async function withOpenLab<T>(opening: Promise<Lab>, body: (lab: Lab) => Promise<T>): Promise<T> {
  const lab = await opening;
  try {
    return await body(lab);
  } finally {
    await lab.close();
  }
}

/** A clock the test moves by hand. */
export function manualClock(start = Date.UTC(2026, 10, 28, 12)): Clock & { set(t: number): void } {
  let t = start;
  return { now: () => t, set: (v: number) => { t = v; } };
}
