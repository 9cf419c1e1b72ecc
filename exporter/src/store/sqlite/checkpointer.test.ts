import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../../../test/harness/wait.js';
import { SqliteStore } from './store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** 30 emails of 2 KB (about 300 WAL pages with the schema's): under both connections' own auto-checkpoint thresholds. */
async function queueSome(store: SqliteStore): Promise<void> {
  const raw = Buffer.alloc(2_000, 'x');
  for (let i = 0; i < 30; i++) {
    await store.outgoing.queue({ mailboxId: 'm', messageId: `<${i}@example.org>`, envelopeFrom: 'a@example.org', recipients: ['b@example.org'], subject: null, raw, at: i, by: 'test' });
  }
}

function fixture(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mailsync-checkpointer-'));
  dirs.push(dir);
  return path.join(dir, 'store.db');
}

// In WAL mode only a checkpoint writes the database file: its size shows who checkpointed.
describe('SQLite: WAL checkpoints in a worker thread', () => {
  it('copies committed pages into the database file without the writer checkpointing', async () => {
    const file = fixture();
    const store = new SqliteStore({ path: file, checkpoints: 'background' });
    try {
      const before = statSync(file).size;
      await queueSome(store);
      await waitFor(() => statSync(file).size, { what: 'the background checkpoint to grow the database file', until: (size) => size > before + 60_000 });
    } finally {
      await store.close();
    }
    // The writer's close was the last: the WAL is gone and every email is in the file.
    expect(() => statSync(`${file}-wal`)).toThrow();
    const db = new Database(file, { readonly: true });
    expect(db.prepare('SELECT count(*) AS n FROM outgoing_email').get()).toEqual({ n: 30 });
    db.close();
  });

  it('lets a process whose last work is closing the store finish after the close (a CLI command, a stop)', () => {
    const file = fixture();
    const script = path.join(path.dirname(file), 'close.mts');
    writeFileSync(script, [
      `import { SqliteStore } from ${JSON.stringify(path.resolve('exporter/src/store/sqlite/store.ts'))};`,
      `const store = new SqliteStore({ path: ${JSON.stringify(file)}, checkpoints: 'background' });`,
      'await store.close();',
      "console.log('after the close');",
    ].join('\n'));
    // An unref'd worker left nothing holding the process: it exited (code 13) before the close resolved.
    expect(execFileSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8' })).toBe('after the close\n');
  });

  it("leaves the writer's own checkpoints to SQLite with checkpoints: 'inline'", async () => {
    const file = fixture();
    const store = new SqliteStore({ path: file, checkpoints: 'inline' });
    try {
      const before = statSync(file).size;
      await queueSome(store);
      // Nothing else checkpoints: the rows stay in the WAL until the writer's threshold or close.
      expect(statSync(file).size).toBe(before);
      expect(statSync(`${file}-wal`).size).toBeGreaterThan(60_000);
    } finally {
      await store.close();
    }
  });
});
