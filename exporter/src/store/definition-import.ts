import { isDeepStrictEqual } from 'node:util';
import type { Definition, DefinitionInput, FileImport } from './definition-types.js';

/** What replacing the previous file import with `defs` writes: decided here, carried out by each driver. */
export interface FileImportPlan {
  /** Definitions to write as the file's (new, changed, or an API one the file now defines). */
  upserts: DefinitionInput[];
  /** The previous import's definitions the file no longer has. */
  removals: Definition[];
  /** The counts the import reports; `revision` is the driver's to fill in. */
  result: FileImport;
}

/**
 * Compares the file's definitions with what the store holds. An unchanged file definition is not
 * written, so re-importing the same file moves no revision and makes no runner rebuild. Bodies are
 * compared deeply: PostgreSQL's jsonb does not keep key order.
 */
export function planFileImport(stored: readonly Definition[], defs: readonly DefinitionInput[]): FileImportPlan {
  const key = (d: { kind: string; id: string }) => `${d.kind}:${d.id}`;
  const before = new Map(stored.map((d) => [key(d), d]));
  const plan: FileImportPlan = { upserts: [], removals: [], result: { revision: 0, added: 0, changed: 0, removed: 0, replacedApi: [] } };
  const kept = new Set<string>();
  for (const def of defs) {
    kept.add(key(def));
    const old = before.get(key(def));
    if (old?.source === 'file' && isDeepStrictEqual(old.body, def.body)) continue;
    if (old?.source === 'api') plan.result.replacedApi.push(key(def));
    if (old) plan.result.changed += 1;
    else plan.result.added += 1;
    plan.upserts.push(def);
  }
  for (const [k, old] of before) {
    if (old.source !== 'file' || kept.has(k)) continue;
    plan.removals.push(old);
    plan.result.removed += 1;
  }
  return plan;
}

/** Whether the import changed anything (and so moves the revision). */
export const importMoved = (r: FileImport): boolean => r.added + r.changed + r.removed > 0;
