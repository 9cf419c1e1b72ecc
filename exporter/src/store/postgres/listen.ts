import pg from 'pg';
import { FEED_CHANNEL } from './feed.js';
import { OUTGOING_CHANNEL } from './outgoing.js';

/** How long to wait before listening again after the listening connection broke. */
const RELISTEN_MS = 1_000;

/**
 * Wakes this runner's feed long-polls and webhook worker for changes another runner committed:
 * one connection of its own (outside the pool: a LISTEN lasts as long as its session) that
 * LISTENs on the feed's channel. PostgreSQL delivers a NOTIFY only once its transaction commits,
 * so a wake never comes before the change can be read. When the connection breaks (the database
 * restarted) it listens again a second later; a change in between is found by the next poll.
 * C: it also hears the outgoing channel (an email queued on any runner: the holder of its mailbox
 * sends it at once); one queued while it was not listening waits for the holder's next scan.
 */
export class FeedListener {
  readonly #config: pg.ClientConfig;
  readonly #wake: () => void;
  readonly #queued: (mailboxId: string) => void;
  #client: pg.Client | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  /** `queued`: C: an email was queued for this mailbox by some runner (the outgoing channel's payload). */
  constructor(config: pg.ClientConfig, wake: () => void, queued: (mailboxId: string) => void = () => undefined) {
    this.#config = config;
    this.#wake = wake;
    this.#queued = queued;
  }

  /** Resolves once listening, or once the first attempt failed (it keeps trying in the background). */
  async start(): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client(this.#config);
    client.on('error', () => this.#again(client));
    client.on('end', () => this.#again(client));
    client.on('notification', (n) => {
      if (n.channel === OUTGOING_CHANNEL) this.#queued(n.payload ?? '');
      else this.#wake();
    });
    this.#client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${FEED_CHANNEL}; LISTEN ${OUTGOING_CHANNEL}`);
      // A change may have committed while nobody listened: readers look once more.
      this.#wake();
    } catch {
      this.#again(client);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }

  #again(client: pg.Client): void {
    if (this.#closed || this.#client !== client) return;
    this.#client = undefined;
    client.end().catch(() => undefined);
    this.#timer = setTimeout(() => void this.start(), RELISTEN_MS);
    this.#timer.unref();
  }
}
