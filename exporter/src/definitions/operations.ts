import type { z } from 'zod';
import type { Clock } from '../clock.js';
import { ConfigError } from '../config/index.js';
import { formatIssue } from '../config/errors.js';
import { mailboxSchema, profileSchema } from '../config/schema.js';
import { OperationError, type Actor } from '../mailboxes/operation-error.js';
import type { Definition, DefinitionKind, DefinitionWrite, Store } from '../store/index.js';
import type { Candidate, DefinitionsRuntime } from './runtime.js';
import { inlineSecretProblems } from './secrets.js';

export interface DefinitionView {
  kind: DefinitionKind;
  id: string;
  source: 'file' | 'api';
  /** As written in the config schema; secrets are references ({ env } or { file }), never values. */
  definition: Record<string, unknown>;
  changedBy: string;
  changedAt: string;
}

const SCHEMAS: Record<DefinitionKind, z.ZodType> = { profile: profileSchema, mailbox: mailboxSchema };

type Write = (tx: Pick<Store, 'definitions'>, expected: number) => Promise<DefinitionWrite>;

/** Tries of one change that keeps meeting changes from other runners between validation and write. */
const MAX_ATTEMPTS = 5;

const view = (d: Definition): DefinitionView => ({
  kind: d.kind, id: d.id, source: d.source, definition: d.body, changedBy: d.changedBy, changedAt: new Date(d.changedAt).toISOString(),
});

/**
 * C: creating, changing and deleting profiles and mailboxes through the admin API. Each change is
 * validated as the runner would build it (with the file and every other definition), written
 * with its audit entry in one transaction, and applied on this runner at once.
 */
export class DefinitionOperations {
  /**
   * Changes on this runner go one at a time: each is validated against the store as the one before
   * left it, so two requests cannot each pass alone and fail together (the same address twice).
   */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly d: { store: Store; clock: Clock; runtime: DefinitionsRuntime }) {}

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  list(kind: DefinitionKind): { items: DefinitionView[] } {
    return { items: this.d.runtime.definitions(kind).map(view) };
  }

  get(kind: DefinitionKind, id: string): DefinitionView {
    const found = this.d.runtime.definitions(kind).find((x) => x.id === id);
    if (!found) throw new OperationError(404, `no ${kind} "${id}"`);
    return view(found);
  }

  create(kind: DefinitionKind, body: unknown, actor: Actor): Promise<DefinitionView> {
    return this.#serial(() => this.#create(kind, body, actor));
  }

  replace(kind: DefinitionKind, id: string, body: unknown, actor: Actor): Promise<DefinitionView> {
    return this.#serial(() => this.#replace(kind, id, body, actor));
  }

  remove(kind: DefinitionKind, id: string, actor: Actor): Promise<{ deleted: string }> {
    return this.#serial(() => this.#remove(kind, id, actor));
  }

  async #create(kind: DefinitionKind, body: unknown, actor: Actor): Promise<DefinitionView> {
    const def = this.#checked(kind, body, undefined, actor);
    return this.#write(def, actor, 'create', (defs) => [...defs.filter((x) => !(x.kind === kind && x.id === def.id)), def], (tx, expected) => tx.definitions.create(def, expected));
  }

  async #replace(kind: DefinitionKind, id: string, body: unknown, actor: Actor): Promise<DefinitionView> {
    const def = this.#checked(kind, body, id, actor);
    return this.#write(def, actor, 'update', (defs) => defs.map((x) => (x.kind === kind && x.id === id ? def : x)), (tx, expected) => tx.definitions.update(def, expected));
  }

  async #remove(kind: DefinitionKind, id: string, actor: Actor): Promise<{ deleted: string }> {
    const defs = await this.d.store.definitions.list();
    const existing = defs.find((x) => x.kind === kind && x.id === id);
    if (existing?.source === 'file') throw fileOwned(existing);
    if (kind === 'profile') {
      const users = defs.filter((x) => x.kind === 'mailbox' && x.body.profile === id).map((x) => x.id);
      if (users.length > 0) throw new OperationError(409, `profile "${id}" is used by mailbox(es) ${users.slice(0, 10).join(', ')}${users.length > 10 ? ` and ${users.length - 10} more` : ''}; delete or move them first`);
    }
    const gone: Definition = { kind, id, source: 'api', body: {}, changedBy: actor.name, changedAt: this.d.clock.now() };
    await this.#write(gone, actor, 'delete', (all) => all.filter((x) => !(x.kind === kind && x.id === id)), (tx, expected) => tx.definitions.remove(kind, id, expected));
    return { deleted: id };
  }

  /** The body as one definition of its kind: no secret in clear, the schema's own checks, the id. */
  #checked(kind: DefinitionKind, body: unknown, pathId: string | undefined, actor: Actor): Definition {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new OperationError(400, 'body: must be a JSON object (the definition as the config file writes it)');
    const record = { ...(body as Record<string, unknown>) };
    if (pathId !== undefined) {
      if (record.id !== undefined && record.id !== pathId) throw new OperationError(400, `id: "${String(record.id)}" differs from the path's "${pathId}" (an id cannot be changed; create the new one and delete this)`);
      record.id = pathId;
    }
    const secrets = inlineSecretProblems(record);
    if (secrets.length > 0) throw new OperationError(400, secrets.join('; '));
    const parsed = SCHEMAS[kind].safeParse(record);
    if (!parsed.success) throw new OperationError(400, parsed.error.issues.flatMap(formatIssue).join('; '));
    return { kind, id: record.id as string, source: 'api', body: record, changedBy: actor.name, changedAt: this.d.clock.now() };
  }

  async #validate(def: Definition, change: (defs: Definition[]) => Definition[]): Promise<Candidate> {
    const owner = this.d.runtime.definitions(def.kind).find((x) => x.id === def.id && x.source === 'file');
    if (owner) throw fileOwned(owner);
    try {
      return await this.d.runtime.validate(change);
    } catch (error) {
      if (error instanceof ConfigError) throw new OperationError(400, error.problems.join('; '));
      throw error;
    }
  }

  /**
   * Validates the change against the store's definitions and writes it only if the revision is
   * still the one validated against (compare-and-set): a change on another runner in between
   * makes it validate again, so two changes that pass alone but clash together cannot both land.
   */
  async #write(def: Definition, actor: Actor, verb: 'create' | 'update' | 'delete', change: (defs: Definition[]) => Definition[], write: Write): Promise<DefinitionView> {
    for (let attempt = 1; ; attempt++) {
      const candidate = await this.#validate(def, change);
      const outcome = await this.#commit(def, actor, verb, (tx) => write(tx, candidate.revision));
      if (!outcome.ok && outcome.refusal === 'stale' && attempt < MAX_ATTEMPTS) continue;
      if (!outcome.ok) throw await this.#refusal(def, outcome);
      // This runner applies at once; the others when their revision poll sees it move.
      await this.d.runtime.adopt(candidate, outcome.revision);
      return view(def);
    }
  }

  #commit(def: Definition, actor: Actor, verb: string, write: (tx: Pick<Store, 'definitions'>) => Promise<DefinitionWrite>): Promise<DefinitionWrite> {
    return this.d.store.transaction(async (tx) => {
      const result = await write(tx);
      if (result.ok) {
        await tx.lifecycle.audit({
          at: def.changedAt, actor: actor.name, role: actor.role, action: `${verb}_${def.kind}`,
          mailboxId: def.kind === 'mailbox' ? def.id : null, detail: { [def.kind]: def.id, revision: result.revision },
        });
      }
      return result;
    });
  }

  async #refusal(def: Definition, outcome: Extract<DefinitionWrite, { ok: false }>): Promise<OperationError> {
    const name = `${def.kind} "${def.id}"`;
    if (outcome.refusal === 'file') {
      const owner = await this.d.store.definitions.get(def.kind, def.id);
      return owner ? fileOwned(owner) : new OperationError(409, `${name} is defined in a config file`);
    }
    if (outcome.refusal === 'exists') return new OperationError(409, `${name} already exists; change it with PUT`);
    if (outcome.refusal === 'stale') return new OperationError(409, `the definitions kept changing on other runners while ${name} was validated; try again`);
    if (outcome.refusal === 'in_use') return new OperationError(409, `${name} is used by a mailbox; delete or move its mailboxes first`);
    return new OperationError(404, `no ${name} defined through the API`);
  }
}

function fileOwned(d: Definition): OperationError {
  const file = d.changedBy.startsWith('file:') ? d.changedBy.slice('file:'.length) : d.changedBy;
  return new OperationError(409, `${d.kind} "${d.id}" is defined in the config file ${file}; change or remove it there (the file's definitions win over the API)`);
}
