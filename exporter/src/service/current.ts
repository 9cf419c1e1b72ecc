import type { Clock } from '../clock.js';
import type { Config, Mailbox, Profile } from '../config/index.js';
import { createAutodiscover, type Autodiscover } from '../protocols/autodiscover.js';

/** The running config and what is built from it; a reload replaces all of it at once. */
export class CurrentConfig {
  #config!: Config;
  #profiles = new Map<string, Profile>();
  #mailboxes = new Map<string, Mailbox>();
  #autodiscover!: Autodiscover;

  constructor(initial: Config, readonly clock: Clock) {
    this.replace(initial);
  }

  replace(config: Config): void {
    this.#config = config;
    this.#profiles = new Map(config.profiles.map((p) => [p.id, p]));
    this.#mailboxes = new Map(config.mailboxes.map((m) => [m.id, m]));
    this.#autodiscover = createAutodiscover(config.autodiscover, this.clock);
  }

  get config(): Config {
    return this.#config;
  }

  get autodiscover(): Autodiscover {
    return this.#autodiscover;
  }

  get mailboxCount(): number {
    return this.#mailboxes.size;
  }

  profile(id: string): Profile | undefined {
    return this.#profiles.get(id);
  }

  /** The mailbox and its profile, or undefined when a reload removed either. */
  find(mailboxId: string): { mailbox: Mailbox; profile: Profile } | undefined {
    const mailbox = this.#mailboxes.get(mailboxId);
    const profile = mailbox && this.#profiles.get(mailbox.profile);
    return mailbox && profile ? { mailbox, profile } : undefined;
  }
}
