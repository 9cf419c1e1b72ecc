/**
 * A library loaded on first use instead of at start-up: an optional protocol's library (records
 * bodies, SMTP, CalDAV/CardDAV, autoconfig XML, OAuth2 assertions) costs a runner that never uses
 * it only start-up CPU. `load()` imports it once (every caller shares the one import); `get()` is
 * for synchronous code, after an async entry point awaited `load()`.
 */
export interface LazyModule<T> {
  load(): Promise<T>;
  get(): T;
}

export function lazyModule<T>(name: string, importer: () => Promise<T>): LazyModule<T> {
  let loading: Promise<T> | undefined;
  let loaded: T | undefined;
  return {
    load() {
      loading ??= importer().then((m) => (loaded = m));
      return loading;
    },
    get() {
      if (loaded === undefined) throw new Error(`${name} is not loaded yet: an async entry point must await its load() first`);
      return loaded;
    },
  };
}
