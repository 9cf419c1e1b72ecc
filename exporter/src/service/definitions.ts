import type { Router } from 'express';
import type { Clock } from '../clock.js';
import type { Config } from '../config/index.js';
import { DefinitionOperations } from '../definitions/operations.js';
import { definitionRoutes } from '../definitions/routes.js';
import { DefinitionsRuntime } from '../definitions/runtime.js';
import type { RouteHelpers } from '../feed/routes.js';
import type { Logger } from '../log.js';
import type { Timers } from '../scheduler/scheduler.js';
import type { Store } from '../store/index.js';

export interface Definitions {
  /**
   * The running config for a config file read at start or on reload (ConfigError when it does not
   * validate with the store's; `onError` runs first, e.g. closing the store at start).
   */
  withFile(fileConfig: Config, onError?: () => Promise<void>): Promise<Config>;
  start(): void;
  stop(): void;
  api(store: Store, clock: Clock): { routes: (helpers: RouteHelpers) => Router; mailboxSource: (id: string) => 'file' | 'api' | undefined };
}

/** C: the service's side of store definitions: the runtime, its poll interval from the running config, the API. */
export function startDefinitions(deps: {
  store: Store; clock: Clock; timers: Timers; logger: Logger; apply: (config: Config) => Promise<void>; rejected: () => void;
  /** Where the definitions' `{ env }` secrets are read: the process's own environment unless a harness gives its own. */
  env?: NodeJS.ProcessEnv | undefined;
}): Definitions {
  let latest: Config | undefined;
  const runtime = new DefinitionsRuntime({
    ...deps,
    apply: async (config) => {
      latest = config;
      await deps.apply(config);
    },
    pollMs: () => (latest?.definitions.pollSeconds ?? 5) * 1000,
  });
  return {
    async withFile(fileConfig, onError) {
      try {
        latest = await runtime.withFile(fileConfig);
      } catch (error) {
        await onError?.();
        throw error;
      }
      return latest;
    },
    start: () => runtime.start(),
    stop: () => runtime.stop(),
    api(store, clock) {
      const ops = new DefinitionOperations({ store, clock, runtime });
      return { routes: (helpers) => definitionRoutes(ops, helpers), mailboxSource: (id) => runtime.source('mailbox', id) };
    },
  };
}
