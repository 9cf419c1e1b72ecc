import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from './cursor.js';
import { safeContentType, safeFilename } from './disposition.js';

const hidden = (cp: number) => cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp === 0x2028 || cp === 0x2029 || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);

describe('safeFilename', () => {
  it('never leaves a directory part, a control character or a leading dot, and is never empty', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('..', '/', '\\\\', '.\r\n.', '')), (name) => {
      const safe = safeFilename(name, 'attachment-0');
      expect(safe.length).toBeGreaterThan(0);
      expect(safe).not.toMatch(/[/\\]/);
      expect(Array.from(safe).filter((c) => hidden(c.codePointAt(0)!))).toEqual([]);
      expect(safe.startsWith('.')).toBe(false);
      expect(Array.from(safe).length).toBeLessThanOrEqual(200);
    }));
  });

  it('keeps an ordinary name as it is', () => {
    expect(safeFilename('Report Q4 (final).pdf', 'x')).toBe('Report Q4 (final).pdf');
    expect(safeFilename('C:\\Users\\me\\a.doc', 'x')).toBe('a.doc');
    expect(safeFilename(null, 'attachment-3')).toBe('attachment-3');
    expect(safeFilename('../..', 'attachment-3')).toBe('attachment-3');
  });

  it('passes a well-formed media type and replaces anything else by octet-stream', () => {
    expect(safeContentType('Application/PDF')).toBe('application/pdf');
    expect(safeContentType('text/html\r\nSet-Cookie: a=b')).toBe('application/octet-stream');
    expect(safeContentType(undefined)).toBe('application/octet-stream');
  });
});

describe('cursors', () => {
  it('round-trip their key and refuse anything else', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (key) => {
      expect(decodeCursor('emails', encodeCursor('emails', key))).toBe(key);
      expect(() => decodeCursor('failures', encodeCursor('emails', key))).toThrow(/^cursor: /);
    }));
    fc.assert(fc.property(fc.string(), (junk) => {
      let decoded: number | undefined;
      try {
        decoded = decodeCursor('emails', junk);
      } catch (error) {
        expect(String(error)).toMatch(/cursor: /);
        return;
      }
      expect(encodeCursor('emails', decoded!)).toBe(junk);
    }));
  });
});
