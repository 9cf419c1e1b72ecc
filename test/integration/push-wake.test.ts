import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CycleOutcome } from '../../exporter/src/directions/run.js';
import { ImapSession } from '../../exporter/src/protocols/imap.js';
import { Dovecot } from '../harness/dovecot.js';
import { openLab } from '../harness/lab.js';
import { makeMessage } from '../harness/mail.js';
import { waitFor } from '../harness/wait.js';

// The cycle IDLE wakes, against a real Dovecot: it reads INBOX in the view the watch left open
// (no STATUS, no EXAMINE, no CLOSE), and mail the server reports while it runs is never left for
// the next poll.
let dovecot: Dovecot;
beforeAll(async () => {
  dovecot = await Dovecot.start();
});
afterAll(async () => {
  await dovecot?.stop();
});

function success(outcome: CycleOutcome) {
  if (outcome.result === 'failure') throw new Error(`cycle failed: ${outcome.code} ${outcome.message}`);
  return outcome;
}

describe('a cycle woken by IDLE', () => {
  it('reads the folder the watch kept open, without opening it again', async () => {
    const user = dovecot.addUser('wake-open');
    dovecot.seedMaildir(user.name, [makeMessage(1)]);
    let wakes = 0;
    const l = await openLab(dovecot, { mailboxes: [{ id: 'wo', user: user.name }] }, undefined, { wake: () => void (wakes += 1) });
    const status = vi.spyOn(ImapSession.prototype, 'status');
    const examine = vi.spyOn(ImapSession.prototype, 'examine');
    const leave = vi.spyOn(ImapSession.prototype, 'leaveFolder');
    try {
      expect(success(await l.cycle('wo'))).toMatchObject({ itemsProcessed: 1 });
      expect(l.sessions.watchingCount).toBe(1);
      // The first cycle opened INBOX once (to read it) and stayed in it for the watch; a folder
      // with no cursor yet is read whatever its STATUS says, so none was asked.
      expect(examine).toHaveBeenCalledTimes(1);
      expect(status).not.toHaveBeenCalled();
      expect(leave).not.toHaveBeenCalled();
      status.mockClear();
      examine.mockClear();

      dovecot.deliver(user.name, 'INBOX', makeMessage(2, { subject: 'pushed' }));
      await waitFor(() => wakes, { what: 'the watch to report the new mail', until: (n) => n >= 1, timeoutMs: 20_000 });
      expect(success(await l.cycle('wo'))).toMatchObject({ itemsProcessed: 1 });
      expect(await l.store.mail.countEmails('wo')).toBe(2);
      expect(status).not.toHaveBeenCalled();
      expect(examine).not.toHaveBeenCalled();
      expect(leave).not.toHaveBeenCalled();
      expect(l.sessions.watchingCount).toBe(1);
    } finally {
      vi.restoreAllMocks();
      await l.close();
    }
  });

  it('wakes the mailbox again for mail reported while it ran, so none waits for the poll', async () => {
    const user = dovecot.addUser('wake-during');
    dovecot.seedMaildir(user.name, [makeMessage(1)]);
    let wakes = 0;
    const l = await openLab(dovecot, { mailboxes: [{ id: 'wd', user: user.name }] }, undefined, { wake: () => void (wakes += 1) });
    const listAfter = ImapSession.prototype.listAfter;
    try {
      success(await l.cycle('wd'));
      dovecot.deliver(user.name, 'INBOX', makeMessage(2));
      await waitFor(() => wakes, { what: 'the first report', until: (n) => n >= 1, timeoutMs: 20_000 });
      // A message delivered just as the woken cycle reads: the read may or may not include it.
      vi.spyOn(ImapSession.prototype, 'listAfter').mockImplementationOnce(function (this: ImapSession, after: number) {
        dovecot.deliver(user.name, 'INBOX', makeMessage(3));
        return listAfter.call(this, after);
      });
      const before = wakes;
      success(await l.cycle('wd'));
      const stored = await l.store.mail.countEmails('wd');
      // Either it was read, or the server's report of it woke the mailbox again.
      expect(stored === 3 || wakes > before).toBe(true);
      if (stored < 3) {
        success(await l.cycle('wd'));
        expect(await l.store.mail.countEmails('wd')).toBe(3);
      }
    } finally {
      vi.restoreAllMocks();
      await l.close();
    }
  });
});
