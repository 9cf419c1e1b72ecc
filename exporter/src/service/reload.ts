import { isDeepStrictEqual } from 'node:util';
import type { Config } from '../config/index.js';

/** Settings read once at start: a reload that changes them says a restart is needed. */
const RESTART_ONLY: [string, (c: Config) => unknown][] = [
  ['server.listen', (c) => c.server.listen],
  ['server.statusPage', (c) => c.server.statusPage],
  ['store.path', (c) => c.store.path],
  ['store.packDir', (c) => c.store.packDir],
  // A: the database is opened once; a changed url compares by its value (Secret hides it from the log, not from this).
  ['store.driver', (c) => c.store.driver],
  ['store.postgresql', (c) => c.store.postgresql && { ...c.store.postgresql, url: c.store.postgresql.url.reveal() }],
  ['sync.maxConcurrentCycles', (c) => c.sync.maxConcurrentCycles],
  ['sync.jitterRatio', (c) => c.sync.jitterRatio],
  // B: a runner's identity and lease length are what other runners know it by.
  ['runner.id', (c) => c.runner.id],
  ['leases.seconds', (c) => c.leases.seconds],
];

/** The restart-only settings that differ between the running config and the reloaded one. */
export function restartOnlyChanges(running: Config, next: Config): string[] {
  return RESTART_ONLY.filter(([, get]) => !isDeepStrictEqual(get(next), get(running))).map(([key]) => key);
}
