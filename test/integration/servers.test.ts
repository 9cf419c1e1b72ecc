import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CycleOutcome } from '../../exporter/src/directions/run.js';
import { ImapSession } from '../../exporter/src/protocols/imap.js';
import { Secret } from '../../exporter/src/config/secret.js';
import { createLogger } from '../../exporter/src/log.js';
import { Dovecot } from '../harness/dovecot.js';
import { openLab } from '../harness/lab.js';
import { makeMessage } from '../harness/mail.js';

/** Behaviours of IMAP servers that are not Dovecot's defaults, reproduced with Dovecot's own settings. */

function success(outcome: CycleOutcome) {
  if (outcome.result === 'failure') throw new Error(`cycle failed: ${outcome.code} ${outcome.message}`);
  return outcome;
}

describe('a server that advertises METADATA but cannot store the ownership mark', () => {
  let dovecot: Dovecot;
  beforeAll(async () => {
    dovecot = await Dovecot.start({ metadata: 'failing' });
  });
  afterAll(async () => {
    await dovecot?.stop();
  });

  it('is treated as one without METADATA: Test & Enable passes with ownership unsupported, and syncing goes on', async () => {
    const user = dovecot.addUser('refuses');
    await dovecot.append(user, 'INBOX', [makeMessage(1)]);
    const l = await openLab(dovecot, { mailboxes: [{ id: 'r', user: user.name }] });
    try {
      const result = await l.testEnable('r');
      expect(result.checks[0]).toMatchObject({ direction: 'incoming', ok: true });
      expect(result.ownership).toBe('unsupported');
      expect(result.checks[0]?.steps.join('\n')).toMatch(/server refused the ownership mark \(NO .*\): ownership not marked/);
      expect(await l.state('r')).toMatchObject({ disabled: false, disabledCode: null });
      // Every login reads the mark back: the refusal does not fail the sync either.
      expect(success(await l.cycle('r'))).toMatchObject({ itemsProcessed: 1 });
    } finally {
      await l.close();
    }
  });
});

describe('a server whose personal namespace is INBOX. with special-use folders (Courier, Cyrus layout)', () => {
  let dovecot: Dovecot;
  beforeAll(async () => {
    dovecot = await Dovecot.start({ namespace: 'inbox-prefix' });
  });
  afterAll(async () => {
    await dovecot?.stop();
  });

  it('resolves configured names through NAMESPACE and LIST, and special-use names by their flag', async () => {
    const user = dovecot.addUser('prefixed');
    await dovecot.append(user, 'INBOX', [makeMessage(1)]);
    await dovecot.append(user, 'INBOX.Archive', [makeMessage(2)]);
    await dovecot.append(user, 'INBOX.Old Mail', [makeMessage(3)]);
    const l = await openLab(dovecot, { mailboxes: [{ id: 'p', user: user.name, folders: ['INBOX', 'Archive', '\\Archive'] }] });
    try {
      const check = await l.testEnable('p');
      expect(check.checks[0]).toMatchObject({ ok: true });
      expect(check.checks[0]?.steps).toEqual(expect.arrayContaining(['opened INBOX', 'opened Archive (INBOX.Archive on this server)', 'opened \\Archive (INBOX.Old Mail on this server)']));
      const cycle = success(await l.cycle('p'));
      expect(cycle.folders.map((f) => [f.folder, f.inserted])).toEqual([['INBOX', 1], ['INBOX.Archive', 1], ['INBOX.Old Mail', 1]]);

      const session = await ImapSession.open(
        { host: 'localhost', port: dovecot.imapPort, security: 'starttls', caFile: dovecot.cert.cert, timeouts: { connectSeconds: 5, greetingSeconds: 5, socketSeconds: 30 } },
        { user: user.name, password: new Secret(user.password, 'inline') }, { allowNonTlsServers: false, allowCredentialsOverInsecureChannel: false }, createLogger('silent'),
      );
      try {
        // outgoing.sentFolder's default: the folder flagged \Sent, whatever it is called.
        expect(await session.resolveFolder('\\Sent')).toBe('INBOX.Sent Items');
      } finally {
        await session.close();
      }
    } finally {
      await l.close();
    }
  });

  it('an unknown folder still fails with mailbox_not_found, naming the server\'s folders', async () => {
    const user = dovecot.addUser('unknown');
    const l = await openLab(dovecot, { mailboxes: [{ id: 'u', user: user.name, folders: ['INBOX', 'Projects'] }] });
    try {
      const outcome = await l.cycle('u');
      expect(outcome).toMatchObject({ result: 'failure', code: 'mailbox_not_found' });
      expect(outcome.result === 'failure' && outcome.message).toMatch(/folder "Projects": the server has no such folder; the server's folders are .*INBOX\.Sent Items \(\\Sent\).*INBOX\.Archive/);
    } finally {
      await l.close();
    }
  });
});
