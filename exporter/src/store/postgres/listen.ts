import pg from 'pg';
import { FEED_CHANNEL } from './feed.js';

/** How long to wait before listening again after the listening connection broke. */
const RELISTEN_MS = 1_000;

/** What to do with a notification on one more channel than the feed's (the leases', the outgoing queue's), given its payload. */
export type ChannelHandler = (payload: string) => void;

/**
 * Wakes this runner's feed long-polls and webhook worker for changes another runner committed:
 * one connection of its own (outside the pool: a LISTEN lasts as long as its session) that
 * LISTENs on the feed's channel, and on the `others` channels on the same connection (the lease
 * keepers', the outgoing queue's), each handler called with an empty payload after every
 * (re)connect too. PostgreSQL delivers a NOTIFY only once its transaction commits,
 * so a wake never comes before the change can be read. When the connection breaks (the database
 * restarted) it listens again a second later; a change in between is found by the next poll.
 * On the outgoing channel an email queued on any runner wakes the holder of its mailbox at once;
 * one queued while nobody listened waits for the holder's next scan.
 */
export class FeedListener {
  readonly #config: pg.ClientConfig;
  readonly #wake: () => void;
  readonly #others: ReadonlyMap<string, ChannelHandler>;
  #client: pg.Client | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(config: pg.ClientConfig, wake: () => void, others: ReadonlyMap<string, ChannelHandler> = new Map()) {
    this.#config = config;
    this.#wake = wake;
    this.#others = others;
  }

  /** Resolves once listening, or once the first attempt failed (it keeps trying in the background). */
  async start(): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client(this.#config);
    client.on('error', () => this.#again(client));
    client.on('end', () => this.#again(client));
    client.on('notification', (n) => {
      const other = this.#others.get(n.channel);
      if (other) other(n.payload ?? '');
      else this.#wake();
    });
    this.#client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${FEED_CHANNEL}`);
      for (const channel of this.#others.keys()) await client.query(`LISTEN ${channel}`);
      // A change may have committed while nobody listened: readers look once more.
      this.#wake();
      for (const handle of this.#others.values()) handle('');
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
