import { beforeAll, describe, expect, it } from 'vitest';
import { loadItemReader, readItem } from './items.js';

const cal = (body: string) => `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n${body}END:VCALENDAR\r\n`;
const event = (extra: string) => cal(`BEGIN:VEVENT\r\nUID:u1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260101T100000Z\r\n${extra}END:VEVENT\r\n`);

describe('readItem', () => {
  beforeAll(loadItemReader);
  it('tells appointments, tasks and contacts apart and reads their UID', () => {
    expect(readItem(event(''), 'calendar')).toEqual({ ok: true, kind: 'event', uid: 'u1', organizerMissing: false });
    expect(readItem(cal('BEGIN:VTODO\r\nUID:t1\r\nDTSTAMP:20260101T000000Z\r\nEND:VTODO\r\n'), 'calendar')).toMatchObject({ ok: true, kind: 'task', uid: 't1' });
    expect(readItem('BEGIN:VCARD\r\nVERSION:3.0\r\nUID:c1\r\nFN:Carol\r\nEND:VCARD\r\n', 'addressbook')).toMatchObject({ ok: true, kind: 'contact', uid: 'c1' });
  });

  it('finds the documented case: attendees without an organizer', () => {
    expect(readItem(event('ATTENDEE:mailto:a@example.test\r\n'), 'calendar')).toMatchObject({ ok: true, organizerMissing: true });
    expect(readItem(event('ORGANIZER:mailto:o@example.test\r\nATTENDEE:mailto:a@example.test\r\n'), 'calendar')).toMatchObject({ ok: true, organizerMissing: false });
  });

  it('names what is wrong with an item it cannot use', () => {
    expect(readItem(event('ATTENDEE;CN:mailto:a@example.test\r\n'), 'calendar')).toMatchObject({ ok: false, error: expect.stringMatching(/^not valid iCalendar: /) });
    expect(readItem(cal(''), 'calendar')).toEqual({ ok: false, error: 'the VCALENDAR holds no VEVENT or VTODO' });
    expect(readItem(event('').replace('UID:u1\r\n', ''), 'calendar')).toEqual({ ok: false, error: 'the VEVENT has no UID' });
    expect(readItem(event(''), 'addressbook')).toEqual({ ok: false, error: 'an address book item must be a vCard, not VCALENDAR' });
    expect(readItem('BEGIN:VCARD\r\nVERSION:3.0\r\nUID:c1\r\nEND:VCARD\r\n', 'addressbook')).toEqual({ ok: false, error: 'a vCard needs an FN property' });
  });
});
