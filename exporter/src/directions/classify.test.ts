import { describe, expect, it } from 'vitest';
import { createLogger } from '../log.js';
import { classifyFailure } from './classify.js';

/** A logger at `level` whose lines the test reads. */
function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger(level, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}

const password = 'pw-echoed-back';
const login = { source: 'mailbox' as const, login: { password: { reveal: () => password } } };
/** Dovecot's refusal as imapflow raises it, from a server that (unlike Dovecot) echoes the password. */
const refusal = () => Object.assign(new Error('Command failed'), {
  responseStatus: 'NO', responseText: `Authentication failed for ${password}.`, serverResponseCode: 'AUTHENTICATIONFAILED',
  response: `2 NO [AUTHENTICATIONFAILED] Authentication failed for ${password}.`, executedCommand: '2 AUTHENTICATE PLAIN', authenticationFailed: true,
});

describe('classifyFailure', () => {
  it('returns the clean message and keeps the raw tagged line in the debug log, the password redacted in both', () => {
    const { log, lines } = capture('debug');
    const c = classifyFailure(refusal(), 'incoming', login, log);
    expect(c.message).toBe('IMAP AUTHENTICATE PLAIN: server said NO [AUTHENTICATIONFAILED] Authentication failed for [redacted].');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 20, code: 'credentials_rejected', err: { message: 'Command failed', response: '2 NO [AUTHENTICATIONFAILED] Authentication failed for [redacted].' } });
    expect(JSON.stringify(lines)).not.toContain(password);
  });

  it('logs an unrecognised error at warn, unless the run was aborted', () => {
    const { log, lines } = capture('info');
    classifyFailure(new Error('something odd'), 'outgoing', login, log);
    expect(lines).toMatchObject([{ level: 40, err: { message: 'something odd' } }]);
    classifyFailure(new Error('something odd'), 'outgoing', login, log, { aborted: true });
    expect(lines).toHaveLength(1);
  });
});
