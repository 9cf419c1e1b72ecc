import { inspect } from 'node:util';

/**
 * A credential read from the config. It never prints itself: logging, JSON serialisation and
 * util.inspect all show a placeholder, so a secret cannot reach a log line or an API response by
 * accident. Only `reveal()` gives the value, and only protocol adapters call it.
 */
export class Secret {
  readonly #value: string;
  /** Where the value came from (`env:NAME`, `file:PATH` or `inline`), safe to show. */
  readonly source: string;

  constructor(value: string, source: string) {
    this.#value = value;
    this.source = source;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return `Secret(${this.source})`;
  }
}
