import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig, type Config } from '../config/index.js';
import type { Timers } from '../scheduler/scheduler.js';
import { SqliteStore } from '../store/index.js';
import { DefinitionsRuntime } from './runtime.js';
import { NOT_STORED } from './secrets.js';

const ENV = { PW: 'mailbox-password-xyz' };
const yaml = (mailboxes: string) => `
organization: { id: acme }
definitions: { pollSeconds: 7 }
profiles:
  - { id: plain, incoming: { host: imap.example.com } }
mailboxes:
${mailboxes}`;
const ANN = '  - { id: ann, address: ann@example.com, profile: plain, credentials: { username: ann, password: "${PW}" } }';
const BOB_INLINE = '  - { id: bob, address: bob@example.com, profile: plain, credentials: { username: bob, password: inline-secret-1 } }';

/** Timers a test fires by hand: the poll's next tick, and the interval it asked for. */
function manualTimers(): Timers & { fire(): void; delays: number[] } {
  let pending: (() => void) | undefined;
  const delays: number[] = [];
  return {
    delays,
    setTimeout: (fn, ms) => { pending = fn; delays.push(ms); return 1; },
    clearTimeout: () => { pending = undefined; },
    fire: () => { const fn = pending; pending = undefined; fn?.(); },
  };
}

let dir: string;
let dbPath: string;
const stores: SqliteStore[] = [];

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'mailsync-defs-'));
  dbPath = path.join(dir, 'mailsync.db');
});
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

/** A runner's side: its own file, its own connection to the shared store, what it applied and logged. */
function runner(name: string, text: string) {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, text);
  const store = new SqliteStore({ path: dbPath });
  stores.push(store);
  const timers = manualTimers();
  const errors: unknown[][] = [];
  const applied: Config[] = [];
  const rejected: number[] = [];
  const runtime = new DefinitionsRuntime({
    rejected: () => rejected.push(1),
    store, clock: { now: () => 1_000 }, timers, env: ENV, pollMs: () => 7_000,
    logger: { info: () => undefined, warn: () => undefined, error: (...args: unknown[]) => errors.push(args) },
    apply: async (c) => { applied.push(c); },
  });
  const load = () => parseConfig(text, file, { env: ENV });
  return { file, store, timers, errors, applied, rejected, runtime, load, write: (t: string) => { text = t; writeFileSync(file, t); } };
}

describe('definitions runtime', () => {
  it('imports the file at start and on reload: a mailbox removed from the file leaves the store', async () => {
    const a = runner('a', yaml(`${ANN}\n${BOB_INLINE}`));
    const first = await a.runtime.withFile(a.load());
    expect(first.mailboxes.map((m) => m.id)).toEqual(['ann', 'bob']);
    expect(a.runtime.source('mailbox', 'ann')).toBe('file');
    a.write(yaml(ANN));
    const second = await a.runtime.withFile(a.load());
    expect(second.mailboxes.map((m) => m.id)).toEqual(['ann']);
    expect((await a.store.definitions.list()).map((d) => `${d.kind}:${d.id}`)).toEqual(['mailbox:ann', 'profile:plain']);
  });

  it('keeps a secret written inline in the file out of the store, and still uses it on this runner', async () => {
    const a = runner('a', yaml(BOB_INLINE));
    const config = await a.runtime.withFile(a.load());
    expect(config.mailboxes[0]?.credentials?.password.reveal()).toBe('inline-secret-1');
    const stored = await a.store.definitions.get('mailbox', 'bob');
    expect(stored?.body.credentials).toEqual({ username: 'bob', password: NOT_STORED });
    expect(JSON.stringify(await a.store.definitions.list())).not.toContain('inline-secret-1');
  });

  it('a second runner applies a change made on the first when its revision poll sees it move', async () => {
    const a = runner('a', yaml(ANN));
    const b = runner('b', yaml(ANN));
    await a.runtime.withFile(a.load());
    await b.runtime.withFile(b.load());
    b.runtime.start();
    expect(b.timers.delays).toEqual([7_000]);
    // Nothing moved: a tick applies nothing.
    b.timers.fire();
    await b.runtime.refresh();
    expect(b.applied).toEqual([]);
    await a.store.definitions.create({ kind: 'mailbox', id: 'cy', body: { id: 'cy', address: 'cy@example.com', profile: 'plain', credentials: { username: 'cy', password: { env: 'PW' } } }, changedBy: 'root', changedAt: 2 });
    b.timers.fire();
    await b.runtime.refresh();
    expect(b.applied.map((c) => c.mailboxes.map((m) => m.id))).toEqual([['ann', 'cy']]);
    expect(b.runtime.source('mailbox', 'cy')).toBe('api');
    b.runtime.stop();
  });

  it('keeps the running config when the store\'s definitions no longer validate, and says so once', async () => {
    const a = runner('a', yaml(ANN));
    await a.runtime.withFile(a.load());
    await a.store.definitions.create({ kind: 'mailbox', id: 'bad', body: { id: 'bad', address: 'bad@example.com', profile: 'ghost' }, changedBy: 'root', changedAt: 2 });
    await a.runtime.refresh();
    await a.runtime.refresh();
    expect(a.applied).toEqual([]);
    expect(a.errors).toHaveLength(1);
    expect(a.rejected).toHaveLength(1);
    expect(a.errors[0]?.[0]).toMatchObject({ problems: [expect.stringMatching(/^mailbox "bad" \(api\)\.profile: unknown profile "ghost"/)] });
    await a.store.definitions.remove('mailbox', 'bad');
    await a.runtime.refresh();
    expect(a.applied).toHaveLength(1);
  });

  it('refuses a file that does not validate with the API\'s definitions, importing nothing', async () => {
    const a = runner('a', yaml(ANN));
    await a.runtime.withFile(a.load());
    await a.store.definitions.create({ kind: 'mailbox', id: 'api1', body: { id: 'api1', address: 'api1@example.com', profile: 'plain', credentials: { username: 'a', password: { env: 'PW' } } }, changedBy: 'root', changedAt: 2 });
    const revision = await a.store.definitions.revision();
    // The file renames the profile an API mailbox uses.
    a.write(yaml(ANN.replace('profile: plain', 'profile: plain2')).replace('id: plain,', 'id: plain2,'));
    await expect(a.runtime.withFile(a.load())).rejects.toThrow(/mailbox "api1" \(api\)\.profile: unknown profile "plain"/);
    expect(await a.store.definitions.revision()).toBe(revision);
    expect((await a.store.definitions.list()).map((d) => d.id)).toEqual(['ann', 'api1', 'plain']);
  });

  it('applies the validated config after its own write, and builds again when another change came between', async () => {
    const a = runner('a', yaml(ANN));
    await a.runtime.withFile(a.load());
    const mailbox = (id: string) => ({ kind: 'mailbox' as const, id, source: 'api' as const, body: { id, address: `${id}@example.com`, profile: 'plain', credentials: { username: id, password: { env: 'PW' } } }, changedBy: 'root', changedAt: 2 });
    const own = await a.runtime.validate((defs) => [...defs, mailbox('own1')]);
    const written = await a.store.definitions.create(mailbox('own1'));
    await a.runtime.adopt(own, written.ok ? written.revision : -1);
    expect(a.applied.at(-1)?.mailboxes.map((m) => m.id)).toEqual(['ann', 'own1']);
    // Another runner writes between this one's validation and its write.
    const next = await a.runtime.validate((defs) => [...defs, mailbox('own2')]);
    await a.store.definitions.create(mailbox('theirs'));
    const second = await a.store.definitions.create(mailbox('own2'));
    await a.runtime.adopt(next, second.ok ? second.revision : -1);
    expect(a.applied.at(-1)?.mailboxes.map((m) => m.id)).toEqual(['ann', 'own1', 'own2', 'theirs']);
  });

  it('F: a file the store already holds as it is writes nothing: no import transaction, the revision stays', async () => {
    const a = runner('a', yaml(ANN));
    const b = runner('b', yaml(ANN));
    await a.runtime.withFile(a.load());
    const revision = await a.store.definitions.revision();
    const imports = vi.spyOn(b.store.definitions, 'importFile');
    const config = await b.runtime.withFile(b.load());
    expect(imports).not.toHaveBeenCalled();
    expect(config.mailboxes.map((m) => m.id)).toEqual(['ann']);
    expect(b.runtime.source('mailbox', 'ann')).toBe('file');
    expect(await b.store.definitions.revision()).toBe(revision);
    // A changed file is imported as before.
    b.write(yaml(`${ANN}\n${BOB_INLINE}`));
    expect((await b.runtime.withFile(b.load())).mailboxes.map((m) => m.id)).toEqual(['ann', 'bob']);
    expect(imports).toHaveBeenCalledTimes(1);
  });
});
