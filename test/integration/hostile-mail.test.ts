import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORPUS_MAX_BYTES, hostileCorpus } from '../corpus/hostile.js';
import { Dovecot } from '../harness/dovecot.js';
import { openLab } from '../harness/lab.js';

let dovecot: Dovecot;
beforeAll(async () => {
  dovecot = await Dovecot.start();
});
afterAll(async () => {
  await dovecot?.stop();
});

describe('a mailbox full of malformed and odd mail', () => {
  it('stores or records every message, crashes on none, drops none, and stores identical bytes once', async () => {
    const corpus = hostileCorpus();
    expect(corpus.length).toBeGreaterThanOrEqual(60);
    const user = dovecot.addUser('hostile');
    dovecot.seedMaildir(user.name, corpus.map((m) => m.bytes));
    const lab = await openLab(dovecot, { mailboxes: [{ id: 'h', user: user.name }], sync: { maxMessageBytes: CORPUS_MAX_BYTES, batchSize: 16 } });
    try {
      const outcome = await lab.cycle('h');
      expect(outcome).toMatchObject({ result: 'success', itemsProcessed: corpus.length });

      // Find each message in the store by its token, whatever the server did to its line ends.
      const emails = await lab.store.mail.listEmails('h', 1_000);
      const raws = await Promise.all(emails.map(async (e) => ({ id: e.id, raw: (await lab.store.mail.getRawEmail(e.id))!.toString('latin1') })));
      const emailOf = (token: string) => raws.filter((r) => r.raw.includes(token)).map((r) => r.id);
      const failures = await lab.store.mail.listItemFailures('h');
      const parseFailed = new Set(failures.filter((f) => f.code === 'item_parse_failed').map((f) => f.emailId));
      const unexpected: string[] = [];
      for (const m of new Map(corpus.map((c) => [c.token, c])).values()) {
        const found = emailOf(m.token);
        const got = m.expected === 'too_large' ? (found.length === 0 ? 'too_large' : 'stored') : found.length !== 1 ? `found ${found.length} times` : parseFailed.has(found[0]!) ? 'parse_failed' : 'stored';
        if (got !== m.expected) unexpected.push(`${m.token} ${m.name}: expected ${m.expected}, got ${got}`);
      }
      expect(unexpected).toEqual([]);

      // The counts add up: every UID has a location or an item_too_large record; the repeated bytes are one email.
      const tooLarge = corpus.filter((m) => m.expected === 'too_large').length;
      const locations = await lab.store.mail.emailLocations('h');
      expect(locations).toHaveLength(corpus.length - tooLarge);
      expect(failures.filter((f) => f.code === 'item_too_large')).toHaveLength(tooLarge);
      expect(emails).toHaveLength(corpus.length - tooLarge - 1);
      const repeated = emailOf(corpus[0]!.token);
      expect(locations.filter((l) => l.emailId === repeated[0])).toHaveLength(2);

      // A second cycle finds nothing new and stores nothing twice.
      expect(await lab.cycle('h')).toMatchObject({ result: 'success', itemsProcessed: 0 });
      expect(await lab.store.mail.countEmails('h')).toBe(emails.length);
    } finally {
      await lab.close();
    }
  });
});
