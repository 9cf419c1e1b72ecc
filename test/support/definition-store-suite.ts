import { describe, expect, it } from 'vitest';
import type { DefinitionInput, DefinitionStore } from '../../exporter/src/store/index.js';

// C: one suite for the definitions sub-store, run on SQLite (unit) and PostgreSQL (integration).

const profile = (id: string, host = 'imap.example.com'): DefinitionInput => ({
  kind: 'profile', id, body: { id, incoming: { host } }, changedBy: 'file:/etc/mailsync.yaml', changedAt: 1_000,
});
const mailbox = (id: string, profileId: string): DefinitionInput => ({
  kind: 'mailbox', id, body: { id, address: `${id}@example.com`, profile: profileId, credentials: { username: id, password: { env: 'PW' } } }, changedBy: 'root', changedAt: 2_000,
});

export function definitionStoreSuite(open: () => Promise<{ definitions: DefinitionStore; close: () => Promise<void> }>): void {
  const withStore = (fn: (d: DefinitionStore) => Promise<void>) => async () => {
    const s = await open();
    try {
      await fn(s.definitions);
    } finally {
      await s.close();
    }
  };

  describe('definitions', () => {
    it('starts at revision 0 with nothing defined', withStore(async (d) => {
      expect(await d.revision()).toBe(0);
      expect(await d.list()).toEqual([]);
    }));

    it('imports a file: adds, keeps the revision when nothing changed, removes what the file no longer has', withStore(async (d) => {
      const first = await d.importFile([profile('p1'), profile('p2')]);
      expect(first).toMatchObject({ added: 2, changed: 0, removed: 0, revision: 1 });
      expect((await d.list()).map((x) => [x.kind, x.id, x.source])).toEqual([['profile', 'p1', 'file'], ['profile', 'p2', 'file']]);
      // The same file again (keys in another order): nothing moves, so no runner rebuilds.
      const same = await d.importFile([{ ...profile('p2'), body: { incoming: { host: 'imap.example.com' }, id: 'p2' } }, profile('p1')]);
      expect(same).toMatchObject({ added: 0, changed: 0, removed: 0, revision: 1 });
      const next = await d.importFile([profile('p1', 'other.example.com')]);
      expect(next).toMatchObject({ added: 0, changed: 1, removed: 1, revision: 2 });
      expect(await d.get('profile', 'p1')).toMatchObject({ source: 'file', body: { incoming: { host: 'other.example.com' } } });
      expect(await d.get('profile', 'p2')).toBeUndefined();
    }));

    it('creates, updates and removes API definitions, each bumping the revision', withStore(async (d) => {
      await d.importFile([profile('p1')]);
      expect(await d.create(mailbox('ann', 'p1'))).toEqual({ ok: true, revision: 2 });
      expect(await d.get('mailbox', 'ann')).toMatchObject({ source: 'api', changedBy: 'root', changedAt: 2_000, body: { credentials: { password: { env: 'PW' } } } });
      expect(await d.update({ ...mailbox('ann', 'p1'), body: { ...mailbox('ann', 'p1').body, address: 'a2@example.com' }, changedAt: 3_000 })).toEqual({ ok: true, revision: 3 });
      expect(await d.get('mailbox', 'ann')).toMatchObject({ changedAt: 3_000, body: { address: 'a2@example.com' } });
      expect(await d.remove('mailbox', 'ann')).toEqual({ ok: true, revision: 4 });
      expect(await d.get('mailbox', 'ann')).toBeUndefined();
      expect(await d.revision()).toBe(4);
    }));

    it('refuses API writes to file definitions, duplicate creates, missing ids and a profile still in use', withStore(async (d) => {
      await d.importFile([profile('p1')]);
      await d.create(profile('p2'));
      await d.create(mailbox('ann', 'p2'));
      const revision = await d.revision();
      expect(await d.create(profile('p1'))).toEqual({ ok: false, refusal: 'file', source: 'file' });
      expect(await d.update(profile('p1'))).toEqual({ ok: false, refusal: 'file', source: 'file' });
      expect(await d.remove('profile', 'p1')).toEqual({ ok: false, refusal: 'file', source: 'file' });
      expect(await d.create(profile('p2'))).toEqual({ ok: false, refusal: 'exists', source: 'api' });
      expect(await d.update(profile('nope'))).toEqual({ ok: false, refusal: 'missing' });
      expect(await d.remove('mailbox', 'nope')).toEqual({ ok: false, refusal: 'missing' });
      expect(await d.remove('profile', 'p2')).toEqual({ ok: false, refusal: 'in_use' });
      // Refusals change nothing.
      expect(await d.revision()).toBe(revision);
      expect(await d.remove('mailbox', 'ann')).toMatchObject({ ok: true });
      expect(await d.remove('profile', 'p2')).toMatchObject({ ok: true });
    }));

    it('lets a file import take over an API id, and leaves API definitions alone otherwise', withStore(async (d) => {
      await d.importFile([profile('p1')]);
      await d.create(profile('p2'));
      await d.create(profile('p3'));
      const result = await d.importFile([profile('p1'), profile('p2', 'file.example.com')]);
      expect(result).toMatchObject({ added: 0, changed: 1, removed: 0, replacedApi: ['profile:p2'] });
      expect((await d.list()).map((x) => `${x.id}:${x.source}`)).toEqual(['p1:file', 'p2:file', 'p3:api']);
      // A file import with nothing never touches the API's.
      await d.importFile([]);
      expect((await d.list()).map((x) => `${x.id}:${x.source}`)).toEqual(['p3:api']);
    }));

    it('writes only at the revision the caller validated against (compare-and-set)', withStore(async (d) => {
      await d.importFile([profile('p1')]);
      expect(await d.create(profile('p2'), 0)).toEqual({ ok: false, refusal: 'stale' });
      expect(await d.create(profile('p2'), 1)).toEqual({ ok: true, revision: 2 });
      expect(await d.update(profile('p2', 'h2'), 1)).toEqual({ ok: false, refusal: 'stale' });
      expect(await d.remove('profile', 'p2', 1)).toEqual({ ok: false, refusal: 'stale' });
      expect(await d.revision()).toBe(2);
      expect(await d.update(profile('p2', 'h2'), 2)).toEqual({ ok: true, revision: 3 });
      expect(await d.remove('profile', 'p2', 3)).toEqual({ ok: true, revision: 4 });
    }));

    it('gives concurrent creates one revision each', withStore(async (d) => {
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => d.create(profile(`c${i}`))));
      expect(results.map((r) => (r.ok ? r.revision : 0)).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(await d.revision()).toBe(8);
    }));
  });
}
