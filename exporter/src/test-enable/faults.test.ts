import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../log.js';
import { FencedError, StoreUnavailableError } from '../store/index.js';
import { reportTestFault } from './faults.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done(); } });
  const counted = { store: 0, fenced: [] as string[] };
  return {
    lines, counted, logger: createLogger('info', sink),
    counts: { storeFault: () => void counted.store++, fenced: (d: string) => void counted.fenced.push(d) },
  };
}

describe('reportTestFault', () => {
  it('says a full store disk in one line without a stack, counts it, and does not call it a crash', () => {
    const c = capture();
    reportTestFault(new StoreUnavailableError('disk_full', 'SQLITE_FULL', 'recording Test & Enable'), 'm1', c.logger, c.counts);
    expect(c.counted.store).toBe(1);
    expect(c.lines).toHaveLength(1);
    expect(c.lines[0]).toMatchObject({ level: 50, mailbox: 'm1', code: 'SQLITE_FULL' });
    expect(String(c.lines[0]?.msg)).toContain('runs again once the store takes writes');
    expect(String(c.lines[0]?.msg)).not.toContain('crashed');
    expect(typeof c.lines[0]?.err).toBe('string');
  });

  it('counts a lease lost mid-test as a fencing refusal of its direction, at warn', () => {
    const c = capture();
    reportTestFault(new FencedError({ mailboxId: 'm1', direction: 'incoming', runner: 'r1', token: 3 }), 'm1', c.logger, c.counts);
    expect(c.counted).toEqual({ store: 0, fenced: ['incoming'] });
    expect(c.lines[0]).toMatchObject({ level: 40, mailbox: 'm1' });
  });

  it('logs any other error whole, as the defect it is', () => {
    const c = capture();
    reportTestFault(new TypeError('boom'), 'm1', c.logger, c.counts);
    expect(c.counted).toEqual({ store: 0, fenced: [] });
    expect(c.lines[0]).toMatchObject({ level: 50, msg: 'Test & Enable crashed' });
    expect(String((c.lines[0]?.err as { stack?: string }).stack)).toContain('TypeError: boom');
  });
});
