import { describe, expect, it } from 'vitest';
import { classifyError } from '../../classify/index.js';
import { ReplyReader, unstuff } from './reader.js';
import { Pop3ReplyError, pop3ErrorCode, splitResponseCode } from './replies.js';

describe('POP3 reply reader', () => {
  it('matches pipelined replies to commands in order, whatever the chunking', async () => {
    const wire = Buffer.from('+OK 2 messages\r\n+OK 12 octets\r\nline one\r\n..dot\r\n.\r\n-ERR [IN-USE] locked\r\n+OK\r\n.\r\n');
    // Every split point, including inside the terminator and inside a status line.
    for (let size = 1; size <= wire.length; size++) {
      const reader = new ReplyReader();
      const replies = [reader.expect(false), reader.expect(true), reader.expect(true), reader.expect(true)];
      for (let i = 0; i < wire.length; i += size) reader.push(wire.subarray(i, i + size));
      const [stat, retr, err, empty] = await Promise.all(replies);
      expect(stat).toEqual({ status: '+OK', text: '2 messages' });
      expect(retr?.body?.toString()).toBe('line one\r\n.dot\r\n');
      expect(err).toEqual({ status: '-ERR', text: '[IN-USE] locked' });
      expect(empty?.body?.length).toBe(0);
    }
  });

  it('fails every waiting reply when the connection fails, and refuses what is no status line', async () => {
    const reader = new ReplyReader();
    const a = reader.expect(false);
    reader.push(Buffer.from('HELLO\r\n'));
    await expect(a).rejects.toMatchObject({ code: 'EPROTOCOL' });
    await expect(reader.expect(false)).rejects.toMatchObject({ code: 'EPROTOCOL' });
  });

  it('undoes dot-stuffing only at line starts', () => {
    expect(unstuff(Buffer.from('\r\n..a\r\nb..c\r\n...\r\n')).toString()).toBe('\r\n.a\r\nb..c\r\n..\r\n');
  });
});

describe('POP3 error classification', () => {
  it.each([
    ['PASS', '[AUTH] Authentication failed.', 'credentials_rejected'],
    ['PASS', '[IN-USE] Couldn\'t open INBOX: Mailbox is locked', 'server_unavailable'],
    ['PASS', '[SYS/TEMP] Temporary failure', 'server_unavailable'],
    ['PASS', '[SYS/PERM] Your account is disabled', 'insufficient_permissions'],
    ['PASS', '[LOGIN-DELAY] wait 5 minutes', 'provider_throttled'],
    // No response codes (RFC 1939-only servers): the text, then the command.
    ['PASS', 'authentication failure', 'credentials_rejected'],
    ['PASS', 'maildrop already locked', 'server_unavailable'],
    ['PASS', 'Unable to lock maildrop: mailbox in use', 'server_unavailable'],
    ['USER', 'POP3 access is disabled for this account', 'insufficient_permissions'],
    ['RETR', 'no such message', 'protocol_error'],
    ['STLS', 'command not supported', 'secure_connection_failed'],
  ])('%s -ERR %s -> %s', (command, text, code) => {
    const { responseCode, words } = splitResponseCode(text);
    expect(pop3ErrorCode(command, responseCode, words)).toBe(code);
  });

  it('goes through the classifier with its code and a message without arguments', () => {
    const c = classifyError(new Pop3ReplyError('PASS', '[AUTH] Authentication failed.'), { direction: 'incoming', credentialSource: 'mailbox' });
    expect(c).toMatchObject({ code: 'credentials_rejected', scope: 'mailbox', message: 'POP3 PASS: server said -ERR [AUTH] Authentication failed.' });
  });
});
