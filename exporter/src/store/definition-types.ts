// C: profiles and mailboxes defined in the store (exporter/src/definitions/ decides what they mean).

export type DefinitionKind = 'profile' | 'mailbox';
export const DEFINITION_KINDS: readonly DefinitionKind[] = ['profile', 'mailbox'];

/** `file`: imported from a runner's config file (start, reload); `api`: created through the admin API. */
export type DefinitionSource = 'file' | 'api';

/** One profile or mailbox as written in the config (the zod schema's input form, secrets as references). */
export interface Definition {
  kind: DefinitionKind;
  id: string;
  source: DefinitionSource;
  body: Record<string, unknown>;
  /** The API token's name, or `file:<path>` for an import. */
  changedBy: string;
  changedAt: number;
}

export type DefinitionInput = Omit<Definition, 'source'>;

/**
 * Why a conditional write did not happen: the row exists or is absent, the file owns it, a mailbox
 * still uses the profile, or (`stale`) the revision is no longer the one the caller validated against.
 */
export type DefinitionRefusal = 'exists' | 'missing' | 'file' | 'in_use' | 'stale';

export type DefinitionWrite = { ok: true; revision: number } | { ok: false; refusal: DefinitionRefusal; source?: DefinitionSource };

export interface FileImport {
  revision: number;
  added: number;
  changed: number;
  removed: number;
  /** API definitions the file now defines too: the file's replaced them. */
  replacedApi: string[];
}

export interface DefinitionStore {
  /** Bumped in the same transaction as every change; runners poll it to know when to rebuild. */
  revision(): Promise<number>;
  list(): Promise<Definition[]>;
  get(kind: DefinitionKind, id: string): Promise<Definition | undefined>;
  /**
   * An API create: refused when any definition (file or API) has the id. With `expected`, also
   * when the revision moved past it (compare-and-set: the caller validated against `expected`).
   */
  create(def: DefinitionInput, expected?: number): Promise<DefinitionWrite>;
  /** An API change: only of an API definition (`expected` as for create). */
  update(def: DefinitionInput, expected?: number): Promise<DefinitionWrite>;
  /** An API delete: only of an API definition, and a profile only while no mailbox names it. */
  remove(kind: DefinitionKind, id: string, expected?: number): Promise<DefinitionWrite>;
  /**
   * Replaces the previous file import with `defs` in one transaction: one no longer in the file is
   * removed, an API one with an id the file has becomes the file's. The revision moves only when
   * something changed, so a reload of the same file does not make every runner rebuild.
   */
  importFile(defs: DefinitionInput[]): Promise<FileImport>;
}
