import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openActLab } from '../harness/act-lab.js';
import { manualClock } from '../harness/lab.js';
import { Radicale, vevent, type RadicaleUser } from '../harness/radicale.js';

/**
 * ACT changes in the change feed, against a real Radicale: an appointment created, changed and
 * deleted on the server is one change each, in that order, written with the item in the cycle's
 * commit, and a webhook that asked for the ACT kinds has an outbox row for each.
 */
let radicale: Radicale;
const user: RadicaleUser = { name: 'feedact', password: 'pw-feedact' };

beforeAll(async () => {
  radicale = await Radicale.start([user]);
});
afterAll(async () => {
  await radicale?.stop();
});

describe('appointments, contacts and tasks in the change feed', () => {
  it('shows an appointment created, changed and deleted on the server, once each and in order, and queues them for a webhook', async () => {
    await radicale.makeCalendar(user, 'calendar');
    const lab = await openActLab({ url: radicale.url, mailboxes: [{ id: 'ann', user: user.name, password: user.password }] }, manualClock());
    try {
      await lab.store.feed.setWebhooks([{ id: 'crm', kinds: ['act_item_changed', 'act_item_deleted'] }, { id: 'mail-only', kinds: ['email_stored'] }]);
      const href = `/${user.name}/calendar/standup.ics`;
      await radicale.put(user, href, vevent('standup', 'Stand-up'));
      await lab.turn('ann');
      await radicale.put(user, href, vevent('standup', 'Stand-up moved to 10:00'));
      await lab.turn('ann');
      await lab.turn('ann'); // nothing new on the server: no change
      await radicale.remove(user, href);
      await lab.turn('ann');

      const changes = await lab.store.feed.changesAfter(0, 100);
      expect(changes.map((c) => [c.kind, c.mailboxId, c.data.href, c.data.change, c.data.version])).toEqual([
        ['act_item_changed', 'ann', href, 'created', 1],
        ['act_item_changed', 'ann', href, 'updated', 2],
        ['act_item_deleted', 'ann', href, 'deleted', 3],
      ]);
      expect(changes[0]!.data).toMatchObject({ collection: `/${user.name}/calendar/`, kind: 'event', uid: 'standup' });
      expect(changes[1]!.data.etag).not.toBe(changes[0]!.data.etag);
      // The change's version is the stored version: the item's text is one request away.
      const versions = await lab.store.act.versions('ann', `/${user.name}/calendar/`, href);
      expect(versions.map((v) => [v.version, v.change])).toEqual([[1, 'created'], [2, 'updated'], [3, 'deleted']]);
      expect(versions[1]!.data).toContain('moved to 10:00');
      expect(await lab.store.feed.outboxStats()).toEqual([expect.objectContaining({ webhookId: 'crm', pending: 3, dead: 0 })]);
    } finally {
      await lab.close();
    }
  });
});
