import TinyQueue from 'tinyqueue';

/** Where a waiting job is: due later, due now, or due now but held back by its profile's limit. */
type Where = 'future' | 'ready' | 'parked';

interface Place {
  id: string;
  group: string;
  due: number;
  /** Order of queueing: jobs due at the same time start first come, first served. */
  seq: number;
  where: Where;
}

const earliestFirst = (a: Place, b: Place): number => a.due - b.due || a.seq - b.seq;

/**
 * The jobs waiting for their next cycle, by due time, so that a start, a completion, a wake and a
 * scrape of the queue depth each cost O(log n) however large the fleet:
 * - `future` holds jobs due later; its earliest one is when the scheduler looks again;
 * - `ready` holds jobs due now that wait for a free slot;
 * - `parked` holds, per profile, jobs due now whose profile is at its connection limit. They go
 *   back to `ready` one at a time as that profile frees a slot, so a full profile's backlog is not
 *   looked at again on every completion elsewhere.
 * A binary heap cannot take an item out of its middle: a job moved or removed leaves its old place
 * behind, which is dropped when it reaches the top (each job has one current place, in `#places`).
 */
export class DueQueue {
  readonly #places = new Map<string, Place>();
  readonly #future = new TinyQueue<Place>([], earliestFirst);
  readonly #ready = new TinyQueue<Place>([], earliestFirst);
  readonly #parked = new Map<string, TinyQueue<Place>>();
  #seq = 0;
  /** Current places in `ready` or `parked`: the queue depth, without counting on every scrape. */
  #waiting = 0;

  /** Queues a job for `due`, or moves it there; an infinite due takes it out (it waits for a wake). */
  set(id: string, group: string, due: number, now: number): void {
    this.delete(id);
    if (!Number.isFinite(due)) return;
    const place: Place = { id, group, due, seq: this.#seq++, where: 'future' };
    this.#places.set(id, place);
    if (due <= now) this.#toReady(place);
    else this.#future.push(place);
  }

  /** Takes a job out (it starts, or it was removed from the config). */
  delete(id: string): void {
    const place = this.#places.get(id);
    if (!place) return;
    this.#places.delete(id);
    if (place.where !== 'future') this.#waiting -= 1;
  }

  /** Jobs due at `now` that wait for a slot, parked ones included. */
  waiting(now: number): number {
    this.#promote(now);
    return this.#waiting;
  }

  /**
   * The earliest job due at `now` whose profile has room, left in the queue (the caller may still
   * hold it back, when the process is overloaded). Jobs found on the way whose profile is full are
   * parked.
   */
  firstStartable(now: number, hasRoom: (group: string) => boolean): string | undefined {
    this.#promote(now);
    for (let place = this.#ready.peek(); place; place = this.#ready.peek()) {
      if (!this.#isCurrent(place)) this.#ready.pop();
      else if (hasRoom(place.group)) return place.id;
      else this.#park(this.#ready.pop() as Place);
    }
    return undefined;
  }

  /** A job of `group` ended: its earliest parked job may take the slot it freed. */
  release(group: string): void {
    const parked = this.#parked.get(group);
    if (!parked) return;
    for (let place = parked.pop(); place; place = parked.pop()) {
      if (!this.#isCurrent(place)) continue;
      place.where = 'ready';
      this.#ready.push(place);
      break;
    }
    if (parked.length === 0) this.#parked.delete(group);
  }

  /** Every parked job goes back to `ready`: after a reload, limits and profiles may have changed. */
  releaseAll(): void {
    for (const group of [...this.#parked.keys()]) {
      while (this.#parked.has(group)) this.release(group);
    }
  }

  /** The earliest due time after `now`, or Infinity when nothing is due later. */
  nextDueAfter(now: number): number {
    this.#promote(now);
    while (this.#future.length > 0 && !this.#isCurrent(this.#future.peek() as Place)) this.#future.pop();
    return this.#future.peek()?.due ?? Infinity;
  }

  /** Moves every job due at `now` from `future` to `ready`. */
  #promote(now: number): void {
    for (let place = this.#future.peek(); place && place.due <= now; place = this.#future.peek()) {
      this.#future.pop();
      if (this.#isCurrent(place)) this.#toReady(place);
    }
  }

  #toReady(place: Place): void {
    place.where = 'ready';
    this.#ready.push(place);
    this.#waiting += 1;
  }

  #park(place: Place): void {
    place.where = 'parked';
    let parked = this.#parked.get(place.group);
    if (!parked) this.#parked.set(place.group, (parked = new TinyQueue<Place>([], earliestFirst)));
    parked.push(place);
  }

  #isCurrent(place: Place): boolean {
    return this.#places.get(place.id) === place;
  }
}
