import { leadDirection } from '../leases/wanted.js';
import type { Direction, ScrapeRow } from '../store/index.js';
import type { Entry, Fleet, FleetInput } from './fleet.js';
import type { ExpositionFormat } from './format.js';
import { LoopBudget } from './loop-budget.js';
import { AGE_FAMILY, ageLine, MAILBOX_FAMILIES, mailboxFamilyHeader, renderMailbox, type MailboxSlice } from './mailbox-text.js';

/** Whether this runner holds a mailbox direction (its lease); absent: it holds every one. */
export type Holds = (mailboxId: string, direction: Direction) => boolean;

interface Kept {
  slice: MailboxSlice;
  /** Its lines of each kept family (index as MAILBOX_FAMILIES), as flat strings: see `encode`. */
  parts: string[];
  series: number;
  /** The last scrape that saw the mailbox: a mailbox no scrape sees any more is forgotten. */
  seen: number;
}

/** Well under a ms of comparing (and a little writing) on the reference machine. */
const CHECK_EVERY = 250;

/** The indexes of the families kept per mailbox: all but the pending-send age. */
const KEPT_FAMILIES = MAILBOX_FAMILIES.slice(0, AGE_FAMILY).map((_, f) => f);

export interface MailboxText {
  /** Each family's HELP and TYPE lines and its samples, in the order they are served (UTF-8). */
  chunks: Buffer[];
  series: number;
  /** How many mailboxes' lines were written anew (the others were kept from an earlier scrape). */
  written: number;
}

/**
 * The per-mailbox text of each scrape, kept per mailbox between scrapes. At 10,000 mailboxes
 * writing ~100,000 lines took most of a scrape, on the event loop the cycles run on, while between
 * two scrapes only the mailboxes whose runs finished (a few hundred) change. A mailbox's lines
 * are kept with the slice of the store read they were written from; the next scrape
 * compares its fresh slice with that one, field by field, and writes the lines again only when
 * any differs. The comparison is on what the store returned, whoever wrote it (this runner,
 * another one, the API), so no change can be missed; a scrape therefore equals writing everything
 * anew from its own read (the test compares both). A family none of whose lines changed (a run
 * that fetched nothing changes only the last-success and runs families) is served as the last
 * scrape's bytes; only the others are joined and encoded again.
 */
export class MailboxTextCache {
  readonly #kept = new Map<string, Kept>();
  /** The last scrape's families (their samples, encoded) and the mailboxes they were made of, in order. */
  #bodies: Buffer[] = [];
  #order: string[] = [];
  /** Families whose kept lines changed since they were last joined. */
  readonly #dirty: boolean[] = KEPT_FAMILIES.map(() => true);
  readonly #headers = new Map<ExpositionFormat, Buffer[]>();
  #scrapes = 0;
  #turn: Promise<void> = Promise.resolve();

  /**
   * This scrape's per-mailbox text. Scrapes take turns (one render at a time, so that no two
   * interleave on the kept entries), and each lets the event loop run when its budget is spent
   * (checked every CHECK_EVERY mailboxes and between families), so that at 10,000 mailboxes no
   * part of it holds the loop the cycles run on for long.
   */
  render(fleet: Fleet, input: FleetInput, format: ExpositionFormat, holds?: Holds, budget = new LoopBudget()): Promise<MailboxText> {
    const turn = this.#turn.then(() => this.#render(fleet, input, format, holds, budget));
    this.#turn = turn.then(() => undefined, () => undefined);
    return turn;
  }

  async #render(fleet: Fleet, input: FleetInput, format: ExpositionFormat, holds: Holds | undefined, budget: LoopBudget): Promise<MailboxText> {
    const scrape = ++this.#scrapes;
    const slices = sliceFleet(fleet, input, holds);
    const order = slices.map((s) => s.mailbox.id);
    // Another set or order of mailboxes (a reload, a lease gained or lost) changes every family.
    // Kept on the instance until a family is joined again: a scrape that failed half-way must
    // not leave the next one serving an old family beside new kept lines.
    const dirty = this.#dirty;
    if (!sameList(order, this.#order, (a, b) => a === b)) dirty.fill(true);
    const kept: Kept[] = [];
    let series = 0;
    let written = 0;
    const ages: string[] = [];
    for (const [i, slice] of slices.entries()) {
      if (i % CHECK_EVERY === 0) await budget.spend();
      const before = this.#kept.get(slice.mailbox.id);
      let k = before;
      if (!k || !sameSlice(k.slice, slice)) {
        k = encode(slice, scrape);
        this.#kept.set(slice.mailbox.id, k);
        written += 1;
        for (const f of KEPT_FAMILIES) if (!dirty[f] && !sameRange(before, k, f)) dirty[f] = true;
      }
      k.seen = scrape;
      kept.push(k);
      series += k.series;
      const age = ageLine(slice, input.now);
      if (age !== '') ages.push(age);
    }
    for (const [id, k] of this.#kept) if (k.seen !== scrape) this.#kept.delete(id);
    const bodies: Buffer[] = [];
    for (const f of KEPT_FAMILIES) {
      const last = this.#bodies[f];
      if (!dirty[f] && last) bodies.push(last);
      else {
        await budget.spend();
        bodies.push(joinFamily(kept, f));
        dirty[f] = false;
      }
    }
    this.#bodies = bodies;
    this.#order = order;
    const headers = this.#headersOf(format);
    const chunks = bodies.flatMap((body, f) => [headers[f] as Buffer, body]);
    chunks.push(headers[AGE_FAMILY] as Buffer, Buffer.from(ages.join('')));
    return { chunks, series: series + ages.length, written };
  }

  #headersOf(format: ExpositionFormat): Buffer[] {
    let headers = this.#headers.get(format);
    if (!headers) {
      headers = MAILBOX_FAMILIES.map((_, f) => Buffer.from(mailboxFamilyHeader(f, format)));
      this.#headers.set(format, headers);
    }
    return headers;
  }
}


/**
 * A mailbox's lines, kept as slices of one flat string: V8 builds `a + b` as a tree of pieces,
 * and joining 10,000 such trees into a family took several times as long as joining flat strings
 * (measured: ~11 ms against ~2 ms for a 1.9 MB family). A buffer per mailbox, copied into the
 * family, was slower still: Buffer#copy makes a view per call.
 */
function encode(slice: MailboxSlice, scrape: number): Kept {
  const { parts, series } = renderMailbox(slice);
  const all = Buffer.from(parts.join('')).toString();
  let at = 0;
  const flat = parts.map((p) => {
    const part = p === '' ? '' : all.slice(at, at + p.length);
    at += p.length;
    return part;
  });
  return { slice, parts: flat, series, seen: scrape };
}

/** Whether family f's lines of a mailbox are the same in both (none before: not the same). */
function sameRange(a: Kept | undefined, b: Kept, f: number): boolean {
  return a !== undefined && a.parts[f] === b.parts[f];
}

/** Family f's samples: each mailbox's lines of it one after the other, encoded. */
function joinFamily(kept: Kept[], f: number): Buffer {
  return Buffer.from(kept.map((k) => k.parts[f] as string).join(''));
}

/** Everything written from a scrape's read in one pass: no cache, every line written anew. */
export function renderMailboxes(fleet: Fleet, input: FleetInput, format: ExpositionFormat = 'prometheus', holds?: Holds): Promise<MailboxText> {
  return new MailboxTextCache().render(fleet, input, format, holds);
}

/**
 * B: each mailbox's part of the read, narrowed to what this runner writes: with several runners on
 * one store each would otherwise serve every mailbox's series, and a sum over runners would count
 * each mailbox once per runner. A direction's series come from its lease holder; the mailbox-wide
 * ones (info, health, Test & Enable, queue) from the holder of its lead direction (leases/wanted.ts).
 * One runner on SQLite holds every lease, so nothing is left out there.
 */
function sliceFleet(fleet: Fleet, input: FleetInput, holds: Holds | undefined): MailboxSlice[] {
  const held = (id: string, direction: string) => !holds || holds(id, direction as Direction);
  const errors = groupBy(input.errors.filter((e) => held(e.mailboxId, e.direction)));
  const itemFailures = groupBy(input.itemFailures.filter((f) => held(f.mailboxId, f.direction)));
  const queue = new Map(input.queue.map((q) => [q.mailboxId, q]));
  const slices: MailboxSlice[] = [];
  for (const m of fleet.mailboxes) {
    const id = m.mailbox.id;
    const entries = holds && !m.entries.every((e) => holds(id, e.direction)) ? m.entries.filter((e) => holds(id, e.direction)) : m.entries;
    const lead = !holds || holds(id, leadDirection(m.mailbox));
    if (entries.length === 0 && !lead) continue;
    slices.push({
      mailbox: m.mailbox, labels: m.labels, health: m.health, entries, lead,
      testRequestedAt: fleet.tests.get(id)?.requestedAt ?? null,
      errors: errors.get(id) ?? NONE, itemFailures: itemFailures.get(id) ?? NONE,
      queue: lead ? queue.get(id) : undefined,
    });
  }
  return slices;
}

const NONE: never[] = [];

function groupBy<T extends { mailboxId: string }>(items: T[]): Map<string, T[]> {
  const by = new Map<string, T[]>();
  for (const item of items) {
    const list = by.get(item.mailboxId);
    if (list) list.push(item);
    else by.set(item.mailboxId, [item]);
  }
  return by;
}

/** Whether two slices of one mailbox give the same lines: every input of renderMailbox compared. */
export function sameSlice(a: MailboxSlice, b: MailboxSlice): boolean {
  return a.labels === b.labels && a.health === b.health && a.lead === b.lead && a.testRequestedAt === b.testRequestedAt &&
    a.mailbox.profile === b.mailbox.profile && a.mailbox.address === b.mailbox.address &&
    Boolean(a.mailbox.act) === Boolean(b.mailbox.act) && Boolean(a.mailbox.outgoing) === Boolean(b.mailbox.outgoing) &&
    a.queue?.emails === b.queue?.emails && sameEntries(a.entries, b.entries) &&
    sameList(a.errors, b.errors, (x, y) => x.direction === y.direction && x.class === y.class && x.scope === y.scope && x.code === y.code && x.count === y.count) &&
    sameList(a.itemFailures, b.itemFailures, (x, y) => x.direction === y.direction && x.code === y.code && x.count === y.count);
}

function sameEntries(a: Entry[], b: Entry[]): boolean {
  return sameList(a, b, (x, y) => x.direction === y.direction && x.labels === y.labels && sameRow(x.row, y.row));
}

function sameRow(a: ScrapeRow | undefined, b: ScrapeRow | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameList<T>(a: readonly T[], b: readonly T[], same: (x: T, y: T) => boolean): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!same(a[i] as T, b[i] as T)) return false;
  return true;
}
