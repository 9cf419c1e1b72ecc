import type ICAL from 'ical.js';
import { lazyModule } from '../lazy.js';
import type { ActCollectionKind, ActKind } from '../store/index.js';

// Loaded on first use: only CalDAV/CardDAV (act) mailboxes read items, and importing ical.js costs
// about 0.01 s of CPU at start-up (measured against bare node).
const ical = lazyModule('ical.js', async () => (await import('ical.js')).default);

/** Loads ical.js; the async code that calls `readItem` (a pull, a push, a queued change) awaits it first. */
export async function loadItemReader(): Promise<void> {
  await ical.load();
}

export type ItemReading =
  | { ok: true; kind: ActKind; uid: string | null; organizerMissing: boolean }
  | { ok: false; error: string };

/**
 * Reads an item's iCalendar or vCard text with ical.js: what it is (an appointment, a task or a
 * contact), its UID, and whether it is an appointment with attendees but no ORGANIZER (the
 * product's documented "Organizer field is not present" case). Pure; never throws once
 * `loadItemReader()` was awaited.
 */
export function readItem(text: string, collection: ActCollectionKind): ItemReading {
  const lib = ical.get();
  let root: ICAL.Component;
  try {
    root = new lib.Component(lib.parse(text) as unknown[]);
  } catch (error) {
    return { ok: false, error: `not valid ${collection === 'calendar' ? 'iCalendar' : 'vCard'}: ${(error as Error).message}` };
  }
  if (collection === 'addressbook') {
    if (root.name !== 'vcard') return { ok: false, error: `an address book item must be a vCard, not ${root.name.toUpperCase()}` };
    if (!root.hasProperty('fn')) return { ok: false, error: 'a vCard needs an FN property' };
    return { ok: true, kind: 'contact', uid: stringOf(root.getFirstPropertyValue('uid')), organizerMissing: false };
  }
  if (root.name !== 'vcalendar') return { ok: false, error: `a calendar item must be a VCALENDAR, not ${root.name.toUpperCase()}` };
  const events = root.getAllSubcomponents('vevent');
  const todos = root.getAllSubcomponents('vtodo');
  const main = events[0] ?? todos[0];
  if (!main) return { ok: false, error: 'the VCALENDAR holds no VEVENT or VTODO' };
  const uid = stringOf(main.getFirstPropertyValue('uid'));
  if (uid === null) return { ok: false, error: `the ${main.name.toUpperCase()} has no UID` };
  // RFC 5545 3.8.4.1: an ORGANIZER is required where there are ATTENDEEs (a group-scheduled appointment).
  const organizerMissing = events.some((e) => e.hasProperty('attendee') && !e.hasProperty('organizer'));
  return { ok: true, kind: events.length > 0 ? 'event' : 'task', uid, organizerMissing };
}

/** The content type a server expects for an item of the collection. */
export function contentTypeOf(collection: ActCollectionKind): string {
  return collection === 'calendar' ? 'text/calendar' : 'text/vcard';
}

function stringOf(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}
