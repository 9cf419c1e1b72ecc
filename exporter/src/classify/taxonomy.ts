/**
 * Lookups over the error taxonomy. The table itself is data shared with the alert rules and the
 * panel, so it lives in @mailsync/contract; a code is added there first.
 */
import { TAXONOMY, type ErrorCode, type TaxonomyEntry } from '@mailsync/contract';

export { TAXONOMY };
export type { ErrorClass, ErrorCode, Level, RetryRule, Scope, ScopeRule, TaxonomyEntry } from '@mailsync/contract';

const BY_CODE = new Map<string, TaxonomyEntry>(TAXONOMY.map((e) => [e.code, e]));

export function taxonomyEntry(code: ErrorCode): TaxonomyEntry {
  return BY_CODE.get(code) as TaxonomyEntry;
}

export function isErrorCode(code: string): code is ErrorCode {
  return BY_CODE.has(code);
}
