import { ConfigError } from '../config/index.js';
import { loadWebConfig, type WebConfig } from '../http/web-config.js';
import type { Listening } from './listen.js';

/**
 * The web config in force (--web.config.file). A reload reads it again with the main config:
 * users, headers, certificates, CA, versions and ciphers apply to the next request or
 * connection; switching TLS on or off, or client_auth_type, needs a restart (the listener's
 * TLS options are fixed when it opens) and is reported like the main config's restart-only keys.
 */
export class CurrentWeb {
  #web: WebConfig | undefined;
  #listening: Listening | undefined;

  constructor(readonly file: string | undefined, initial: WebConfig | undefined) {
    this.#web = initial;
  }

  get config(): WebConfig | undefined {
    return this.#web;
  }

  attach(listening: Listening): void {
    this.#listening = listening;
  }

  /** Reads the file again; throws ConfigError naming the file and key, and nothing is applied then. */
  read(): WebConfig | undefined {
    if (this.file === undefined) return undefined;
    try {
      return loadWebConfig(this.file);
    } catch (error) {
      if (error instanceof ConfigError) throw new ConfigError(this.file, error.problems.map((p) => `web config ${this.file}: ${p}`));
      throw error;
    }
  }

  /** Applies a file `read` returned; returns the settings that wait for a restart. */
  apply(next: WebConfig | undefined): string[] {
    const running = this.#web?.tls;
    if (!next) {
      this.#web = undefined;
      return [];
    }
    const waiting: string[] = [];
    if (Boolean(running) !== Boolean(next.tls)) waiting.push('web config: TLS on or off');
    else if (running && next.tls && running.clientAuth !== next.tls.clientAuth) waiting.push('web config: tls_server_config.client_auth_type');
    // The listener keeps its scheme and client_auth_type until a restart; certificates and the rest change now.
    const tls = running && (next.tls ? { ...next.tls, clientAuth: running.clientAuth } : running);
    if (tls && tls !== running) this.#listening?.updateTls(tls);
    this.#web = { file: next.file, headers: next.headers, users: next.users, ...(tls ? { tls } : {}) };
    return waiting;
  }
}
