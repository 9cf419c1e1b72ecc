import { describe, expect, it } from 'vitest';
import { describeUrl, isRetryable, isUnreachable, storeFault } from './faults.js';
import { StoreUnavailableError } from '../errors.js';

const withCode = (message: string, code?: string) => Object.assign(new Error(message), code === undefined ? {} : { code });

describe('PostgreSQL faults', () => {
  it('calls the database unreachable for connection, resource and shutdown errors, and nothing else', () => {
    for (const e of [
      withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'), withCode('terminating connection due to administrator command', '57P01'),
      withCode('the database system is starting up', '57P03'), withCode('connection failure', '08006'), withCode('too many connections', '53300'),
      withCode('Connection terminated unexpectedly'), withCode('timeout exceeded when trying to connect'),
      withCode('terminating connection due to idle-in-transaction timeout', '25P03'),
    ]) expect([e.message, isUnreachable(e)]).toEqual([e.message, true]);
    for (const e of [withCode('duplicate key value', '23505'), withCode('deadlock detected', '40P01'), withCode('syntax error', '42601'), 'text']) {
      expect(isUnreachable(e)).toBe(false);
    }
  });

  it('wraps only the unreachable ones, naming where and keeping the code', () => {
    const fault = storeFault(withCode('terminating connection due to administrator command', '57P01'), 'postgresql://db:5432/mailsync');
    expect(fault).toBeInstanceOf(StoreUnavailableError);
    expect(fault).toMatchObject({ fault: 'unreachable', code: '57P01', message: 'the store database cannot be reached (57P01, postgresql://db:5432/mailsync)' });
    const constraint = withCode('duplicate key value', '23505');
    expect(storeFault(constraint, 'x')).toBe(constraint);
    expect([isRetryable(withCode('', '40P01')), isRetryable(withCode('', '40001')), isRetryable(withCode('', '23505'))]).toEqual([true, true, false]);
  });

  it('describes a connection string by host, port and database, never its user or password', () => {
    expect(describeUrl('postgresql://mailsync:hunter2@db.example:6432/prod?sslmode=require')).toBe('postgresql://db.example:6432/prod');
    expect(describeUrl('not a url hunter2')).toBe('postgresql (unparsable url)');
  });
});
