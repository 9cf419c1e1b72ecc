/**
 * bench:definitions — what keeping profiles and mailboxes in the store costs (C, issue 16), with
 * BENCH_MAILBOXES mailboxes (default 10,000) in a SQLite store. Baseline, in the same process:
 * loading the same file as before definitions existed (`loadConfigFile`: YAML, schema, checks).
 * Measured: a start (the file imported into an empty store, the running config built from it), a
 * restart (the same file again: nothing changes), one mailbox created through the operations the
 * API calls (validated with all others, written, applied), and a poll that finds nothing new.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadConfigFile } from '../../exporter/src/config/index.js';
import { DefinitionOperations } from '../../exporter/src/definitions/operations.js';
import { DefinitionsRuntime } from '../../exporter/src/definitions/runtime.js';
import { systemTimers } from '../../exporter/src/scheduler/scheduler.js';
import { SqliteStore } from '../../exporter/src/store/index.js';
import { fmt, median, peakRssMb, progress, sizeFromEnv, timed } from './common.js';

const MAILBOXES = sizeFromEnv('BENCH_MAILBOXES', 10_000);
const ROUNDS = sizeFromEnv('BENCH_ROUNDS', 5);
const env = { ...process.env, BENCH_PW: 'bench-password' };

const dir = mkdtempSync(path.join(tmpdir(), 'mailsync-bench-defs-'));
try {
  const file = path.join(dir, 'mailsync.yaml');
  writeFileSync(file, stringify({
    organization: { id: 'bench' },
    profiles: Array.from({ length: 10 }, (_, p) => ({ id: `p${p}`, incoming: { host: 'imap.bench.example' } })),
    mailboxes: Array.from({ length: MAILBOXES }, (_, i) => ({
      id: `mb-${i}`, address: `user${i}@bench.example`, profile: `p${i % 10}`, credentials: { username: `user${i}`, password: '${BENCH_PW}' },
    })),
  }));
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const runtimeOn = (store: SqliteStore) => new DefinitionsRuntime({ store, clock: { now: Date.now }, timers: systemTimers, logger: quiet, env, pollMs: () => 5_000, apply: async () => undefined });

  const baseline: number[] = [];
  const starts: number[] = [];
  const restarts: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    baseline.push((await timed(async () => loadConfigFile(file, { env }))).seconds);
    const store = new SqliteStore({ path: path.join(dir, `start-${r}.db`) });
    const fileConfig = loadConfigFile(file, { env });
    starts.push((await timed(() => runtimeOn(store).withFile(fileConfig))).seconds);
    restarts.push((await timed(() => runtimeOn(store).withFile(fileConfig))).seconds);
    await store.close();
    progress(`round ${r + 1}/${ROUNDS}`);
  }

  const store = new SqliteStore({ path: path.join(dir, 'api.db') });
  const runtime = runtimeOn(store);
  await runtime.withFile(loadConfigFile(file, { env }));
  const ops = new DefinitionOperations({ store, clock: { now: Date.now }, runtime });
  const actor = { name: 'bench', role: 'admin' as const };
  const changes: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const body = { id: `api-${r}`, address: `api${r}@bench.example`, profile: 'p0', credentials: { username: `api${r}`, password: { env: 'BENCH_PW' } } };
    changes.push((await timed(() => ops.create('mailbox', body, actor))).seconds);
  }
  const polls: number[] = [];
  for (let r = 0; r < ROUNDS * 20; r++) polls.push((await timed(() => runtime.refresh())).seconds);
  await store.close();

  const ms = (s: number[]) => median(s) * 1_000;
  const base = ms(baseline);
  console.log(`file load (baseline): ${fmt(base)} ms; start with import: ${fmt(ms(starts))} ms; restart, same file: ${fmt(ms(restarts))} ms`);
  console.log(`one mailbox through the API with ${MAILBOXES} defined: ${fmt(ms(changes))} ms; a poll with nothing new: ${fmt(ms(polls), 3)} ms`);
  console.log(`RESULT mailboxes=${MAILBOXES} file_load_ms=${fmt(base)} start_ms=${fmt(ms(starts))} restart_ms=${fmt(ms(restarts))} start_ratio=${fmt(ms(starts) / base, 2)} api_change_ms=${fmt(ms(changes))} api_change_ratio=${fmt(ms(changes) / base, 2)} poll_ms=${fmt(ms(polls), 3)} peak_rss_mb=${peakRssMb()}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
