import type { Clock } from '../clock.js';
import { ConfigError, type Config } from '../config/index.js';
import { readConfigDocument } from '../config/load.js';
import type { Logger } from '../log.js';
import type { Timers } from '../scheduler/scheduler.js';
import type { Definition, DefinitionKind, DefinitionSource, Store } from '../store/index.js';
import { buildConfig, fileDefinitions } from './merge.js';

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
  #refreshing: Promise<void> | undefined;

  constructor(deps: RuntimeDeps) {
    this.#d = deps;
  }

  /**
   * The running config for a freshly read (and on its own valid) config file: the file's
   * definitions imported as source `file`, the API's added. Throws ConfigError when they do not
   * validate together; then nothing is imported and the caller keeps what runs.
   */
  async withFile(fileConfig: Config): Promise<Config> {
    const { store, clock, logger } = this.#d;
    const document = readConfigDocument(fileConfig.file);
    const imported = fileDefinitions(document, fileConfig.file, clock.now());
    const importedKeys = new Set(imported.map((d) => `${d.kind}:${d.id}`));
    const api = (await store.definitions.list()).filter((d) => d.source === 'api' && !importedKeys.has(`${d.kind}:${d.id}`));
    const candidate = buildConfig(document, fileConfig.file, [...imported.map((d) => ({ ...d, source: 'file' as const })), ...api], this.#d.env);
    const result = await store.definitions.importFile(imported);
    if (result.replacedApi.length > 0) logger.warn({ definitions: result.replacedApi, config: fileConfig.file }, 'the config file now defines these API-defined ids: the file\'s definitions replace them');
    if (result.revision > 0 && result.added + result.changed + result.removed > 0) logger.info({ ...result, replacedApi: undefined }, 'imported the config file\'s profiles and mailboxes into the store');
    this.#document = document;
    this.#file = fileConfig.file;
    // Built again from the store: a change another runner made meanwhile is included, not lost.
    try {
      return (await this.#build()).config;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      this.#applied = -1;
      return candidate;
    }
  }

  /** Applies the store's definitions when their revision moved since the last apply; a failure keeps what runs. */
  refresh(): Promise<void> {
    // One at a time: an API change and the poll must not apply two builds out of order.
    const run = (this.#refreshing ?? Promise.resolve()).then(() => this.#refresh());
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

  /** The definitions the running config was built from. */
  definitions(kind: DefinitionKind): Definition[] {
    return [...this.#byKey.values()].filter((d) => d.kind === kind);
  }

  /** The running file document and definitions with one change, validated as the runner would build them. */
  validate(change: (defs: Definition[]) => Definition[]): Promise<Config> {
    return this.#d.store.definitions.list().then((defs) => buildConfig(this.#document, this.#file, change(defs), this.#d.env));
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
