import { isDeepStrictEqual } from 'node:util';
import type { Clock } from '../clock.js';
import { ConfigError, type Config } from '../config/index.js';
import { documentOf, readConfigDocument } from '../config/load.js';
import type { Logger } from '../log.js';
import type { Timers } from '../scheduler/scheduler.js';
import type { Definition, DefinitionKind, DefinitionSource, Store } from '../store/index.js';
import { planFileImport } from '../store/definition-import.js';
import { buildConfig, fileDefinitions } from './merge.js';

/** A config validated from the store's definitions (with a change) as they stood at `revision`. */
export interface Candidate {
  config: Config;
  defs: Definition[];
  revision: number;
}

export interface RuntimeDeps {
  store: Pick<Store, 'definitions'>;
  clock: Clock;
  timers: Timers;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Carries a rebuilt config out (the same path as a reload: CurrentConfig, schedulers, sessions). */
  apply: (config: Config) => Promise<void>;
  /** definitions.pollSeconds of the running config, read at each poll. */
  pollMs: () => number;
  /** The store's definitions did not validate: the running config stays (mailsync_config_last_reload_successful 0). */
  rejected?: () => void;
  env?: NodeJS.ProcessEnv;
}

/**
 * C: keeps this runner's config in step with the store's definitions. At start and on reload the
 * file's profiles and mailboxes are imported (`withFile`); a change through the API on this runner
 * applies at once (`refresh`), one on another runner when the revision poll sees it move.
 */
export class DefinitionsRuntime {
  readonly #d: RuntimeDeps;
  #document: unknown;
  #file = '';
  #applied = -1;
  #failed = -1;
  #byKey = new Map<string, Definition>();
  #timer: unknown;
  #stopped = false;
  #refreshing: Promise<unknown> | undefined;

  constructor(deps: RuntimeDeps) {
    this.#d = deps;
  }

  /**
   * The running config for a freshly read (and on its own valid) config file: the file's
   * definitions imported as source `file`, the API's added. Throws ConfigError when they do not
   * validate together; then nothing is imported and the caller keeps what runs.
   */
  withFile(fileConfig: Config): Promise<Config> {
    return this.#serially(() => this.#withFile(fileConfig));
  }

  async #withFile(fileConfig: Config): Promise<Config> {
    const { store, clock, logger } = this.#d;
    // The document the loader parsed; read again only for a config that did not come from it.
    const document = documentOf(fileConfig) ?? readConfigDocument(fileConfig.file);
    const imported = fileDefinitions(document, fileConfig.file, clock.now());
    const importedKeys = new Set(imported.map((d) => `${d.kind}:${d.id}`));
    const before = await store.definitions.revision();
    const stored = await store.definitions.list();
    const storedByKey = new Map(stored.map((d) => [`${d.kind}:${d.id}`, d]));
    // An unchanged file definition keeps its row (and when it was imported); a new or changed one is the file's now.
    const fromFile = imported.map((d): Definition => {
      const old = storedByKey.get(`${d.kind}:${d.id}`);
      return old?.source === 'file' && isDeepStrictEqual(old.body, d.body) ? old : { ...d, source: 'file' };
    });
    const defs = [...fromFile, ...stored.filter((d) => d.source === 'api' && !importedKeys.has(`${d.kind}:${d.id}`))];
    const config = buildConfig(document, fileConfig.file, defs, this.#d.env);
    // F: the file as the store already has it (every runner after the first, every restart) takes
    // no write transaction: runners starting together queued on its lock, then built again.
    const unchanged = planFileImport(stored, imported);
    const result = unchanged.upserts.length + unchanged.removals.length === 0
      ? { ...unchanged.result, revision: before }
      : await store.definitions.importFile(imported);
    if (result.replacedApi.length > 0) logger.warn({ definitions: result.replacedApi, config: fileConfig.file }, 'the config file now defines these API-defined ids: the file\'s definitions replace them');
    const moved = result.added + result.changed + result.removed > 0;
    if (moved) logger.info({ ...result, replacedApi: undefined }, 'imported the config file\'s profiles and mailboxes into the store');
    this.#document = document;
    this.#file = fileConfig.file;
    if (result.revision === before + (moved ? 1 : 0)) return this.#adopted({ config, defs, revision: result.revision });
    // Another runner changed definitions meanwhile: built again from the store, so its change is not lost.
    try {
      return (await this.#build()).config;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      this.#applied = -1;
      return config;
    }
  }

  /**
   * Applies a change this runner validated and wrote: when the store's revision is the one after
   * the validated state, nothing else changed in between and the validated config is what the
   * store now holds; otherwise it is built again from the store.
   */
  adopt(candidate: Candidate, written: number): Promise<void> {
    return this.#serially(async () => {
      if (written !== candidate.revision + 1) return this.#refresh();
      await this.#d.apply(this.#adopted({ ...candidate, revision: written }));
    });
  }

  #adopted(c: Candidate): Config {
    this.#byKey = new Map(c.defs.map((d) => [`${d.kind}:${d.id}`, d]));
    this.#applied = c.revision;
    return c.config;
  }

  /** Applies the store's definitions when their revision moved since the last apply; a failure keeps what runs. */
  refresh(): Promise<void> {
    return this.#serially(() => this.#refresh());
  }

  /** One at a time: a reload, an API change and the poll must not apply two builds out of order. */
  #serially<T>(fn: () => Promise<T>): Promise<T> {
    const run = (this.#refreshing ?? Promise.resolve()).then(fn);
    this.#refreshing = run.catch(() => undefined);
    return run;
  }

  async #refresh(): Promise<void> {
    const revision = await this.#d.store.definitions.revision();
    if (revision === this.#applied || this.#document === undefined) return;
    let built: { config: Config; revision: number };
    try {
      built = await this.#build();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      // One line per revision that fails, not one per poll.
      if (this.#failed !== revision) {
        this.#d.logger.error({ revision, problems: error.problems }, 'the store\'s profiles and mailboxes do not validate: keeping the running config');
        this.#d.rejected?.();
      }
      this.#failed = revision;
      return;
    }
    await this.#d.apply(built.config);
  }

  /** Polls the revision every definitions.pollSeconds until stop(). */
  start(): void {
    const tick = () => {
      this.refresh().catch((error: unknown) => this.#d.logger.error({ err: error }, 'could not read the store\'s definitions revision'))
        .finally(() => { if (!this.#stopped) this.#timer = this.#d.timers.setTimeout(tick, this.#d.pollMs()); });
    };
    this.#timer = this.#d.timers.setTimeout(tick, this.#d.pollMs());
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#d.timers.clearTimeout(this.#timer);
  }

  /** Where a running profile or mailbox is defined, for the API's answers. */
  source(kind: DefinitionKind, id: string): DefinitionSource | undefined {
    return this.#byKey.get(`${kind}:${id}`)?.source;
  }

  /** The definitions the running config was built from, by id. */
  definitions(kind: DefinitionKind): Definition[] {
    return [...this.#byKey.values()].filter((d) => d.kind === kind).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** The running file document and the store's definitions with one change, validated as the runner would build them. */
  async validate(change: (defs: Definition[]) => Definition[]): Promise<Candidate> {
    const revision = await this.#d.store.definitions.revision();
    const defs = change(await this.#d.store.definitions.list());
    return { config: buildConfig(this.#document, this.#file, defs, this.#d.env), defs, revision };
  }

  get file(): string {
    return this.#file;
  }

  async #build(): Promise<{ config: Config; revision: number }> {
    // The revision before the list: a change between the two is seen again at the next poll.
    const revision = await this.#d.store.definitions.revision();
    const defs = await this.#d.store.definitions.list();
    const config = buildConfig(this.#document, this.#file, defs, this.#d.env);
    this.#byKey = new Map(defs.map((d) => [`${d.kind}:${d.id}`, d]));
    this.#applied = revision;
    return { config, revision };
  }
}
