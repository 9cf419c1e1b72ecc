import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { APPROVAL_CODES, approvalBlock } from '../policy/approval.js';
import { renderTaxonomyDoc } from './doc.js';
import { ClassifiedError, classifyError, TAXONOMY, type ClassifyContext } from './index.js';

const incoming = (credentialSource: ClassifyContext['credentialSource'] = 'mailbox'): ClassifyContext => ({ direction: 'incoming', credentialSource });
const outgoing: ClassifyContext = { direction: 'outgoing', credentialSource: 'mailbox' };

/**
 * An error shaped as imapflow rejects a tagged NO/BAD (its imap-flow.js and commands/login.js;
 * the fields were recorded from Dovecot): the text without the response code, and `response` the
 * whole tagged line again.
 */
function imapNo(text: string, extra: Record<string, unknown> = {}) {
  const code = typeof extra.serverResponseCode === 'string' ? `[${extra.serverResponseCode}] ` : '';
  return Object.assign(new Error('Command failed'), { responseStatus: 'NO', responseText: text, response: `7 NO ${code}${text}`, ...extra });
}
/** An error shaped as nodemailer's SMTP connection raises for a negative reply. */
function smtpReply(responseCode: number, response: string, command: string, code = 'EMESSAGE') {
  return Object.assign(new Error(`${command === 'AUTH PLAIN' ? 'Invalid login' : 'Message failed'}: ${response}`), { code, response, responseCode, command });
}
const nodeError = (code: string, message = code) => Object.assign(new Error(message), { code });

describe('classifyError', () => {
  it.each([
    // [case, error, context, code, class, scope]
    ['Dovecot wrong password (mailbox credentials)', imapNo('Authentication failed.', { authenticationFailed: true, serverResponseCode: 'AUTHENTICATIONFAILED' }), incoming('mailbox'), 'credentials_rejected', 'permanent', 'mailbox'],
    ['Dovecot wrong master password (impersonation)', imapNo('Authentication failed.', { authenticationFailed: true, serverResponseCode: 'AUTHENTICATIONFAILED' }), incoming('impersonation'), 'credentials_rejected', 'permanent', 'server'],
    ['profile credentials rejected', imapNo('LOGIN failed.', { authenticationFailed: true }), incoming('profile'), 'credentials_rejected', 'permanent', 'server'],
    ['RFC 5530 AUTHORIZATIONFAILED (may not act as the user)', imapNo('Authorization failed', { authenticationFailed: true, serverResponseCode: 'AUTHORIZATIONFAILED' }), incoming('impersonation'), 'insufficient_permissions', 'permanent', 'server'],
    ['Microsoft 365 IMAP disabled for the user', imapNo('User is authenticated but not connected.', { authenticationFailed: true }), incoming('mailbox'), 'insufficient_permissions', 'permanent', 'mailbox'],
    ['temporary authentication failure', imapNo('Temporary authentication failure.', { authenticationFailed: true, serverResponseCode: 'UNAVAILABLE' }), incoming(), 'server_unavailable', 'transient', 'server'],
    ['Microsoft 365 throttling with a backoff hint', Object.assign(new Error('Command failed'), { code: 'ETHROTTLE', throttleReset: 92415, responseText: 'Request is throttled. Suggested Backoff Time: 92415 milliseconds' }), incoming(), 'provider_throttled', 'transient', 'mailbox'],
    ['[THROTTLED] response text', imapNo('[THROTTLED] Too many concurrent connections'), incoming(), 'provider_throttled', 'transient', 'mailbox'],
    ['Gmail bandwidth limit', Object.assign(new Error('Connection closed'), { responseStatus: 'BYE', responseText: 'Account exceeded command or bandwidth limits. abc123' }), incoming(), 'provider_throttled', 'transient', 'mailbox'],
    ['STARTTLS required but not offered', Object.assign(new Error('Server does not support STARTTLS'), { tlsFailed: true }), incoming(), 'secure_connection_failed', 'permanent', 'server'],
    ['expired certificate', nodeError('CERT_HAS_EXPIRED', 'certificate has expired'), incoming(), 'secure_connection_failed', 'permanent', 'server'],
    ['wrong-name certificate', nodeError('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames"), incoming(), 'secure_connection_failed', 'permanent', 'server'],
    ['untrusted self-signed certificate', nodeError('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'), incoming(), 'secure_connection_failed', 'permanent', 'server'],
    ['TLS spoken to a plaintext port', nodeError('EPROTO', 'write EPROTO ... SSL routines:ssl3_get_record:wrong version number'), incoming(), 'secure_connection_failed', 'permanent', 'server'],
    ['folder missing', Object.assign(new Error('Mailbox does not exist'), { code: 'NotFound' }), incoming(), 'mailbox_not_found', 'permanent', 'mailbox'],
    ['SELECT of a missing folder', imapNo("Mailbox doesn't exist: Archive", { mailboxMissing: true, serverResponseCode: 'NONEXISTENT' }), incoming(), 'mailbox_not_found', 'permanent', 'mailbox'],
    ['no permission on a folder', imapNo('Permission denied', { serverResponseCode: 'NOPERM' }), incoming(), 'insufficient_permissions', 'permanent', 'mailbox'],
    // B: servers without response codes (docs/servers.md): the text stands for the code.
    ['Cyrus login refused, text only', imapNo('Login failed: authentication failure', { authenticationFailed: true }), incoming(), 'credentials_rejected', 'permanent', 'mailbox'],
    ['Courier missing folder, no NONEXISTENT', imapNo('Unknown mailbox: Archive'), incoming(), 'mailbox_not_found', 'permanent', 'mailbox'],
    ['Exchange missing folder, no NONEXISTENT', imapNo('The specified folder could not be found in the store. Folder not found'), incoming(), 'mailbox_not_found', 'permanent', 'mailbox'],
    ['Courier plaintext login refused, no PRIVACYREQUIRED', imapNo('STARTTLS required', { authenticationFailed: true }), incoming(), 'insecure_channel_refused', 'permanent', 'server'],
    ['busy server, no UNAVAILABLE', imapNo('Server busy, try again later'), incoming(), 'server_unavailable', 'transient', 'server'],
    ['login on a busy server, no UNAVAILABLE', imapNo('Temporary authentication failure', { authenticationFailed: true }), incoming(), 'server_unavailable', 'transient', 'server'],
    ['closed port', nodeError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'), incoming(), 'connect_failed', 'transient', 'server'],
    ['connect timeout', nodeError('CONNECT_TIMEOUT', 'Failed to establish connection in required time'), incoming(), 'connect_failed', 'transient', 'server'],
    ['NXDOMAIN', nodeError('ENOTFOUND', 'getaddrinfo ENOTFOUND imap.nowhere.example'), incoming(), 'dns_failed', 'transient', 'server'],
    ['connection dropped mid-fetch', nodeError('NoConnection', 'Connection not available'), incoming(), 'server_unavailable', 'transient', 'server'],
    ['connection reset', nodeError('ECONNRESET', 'read ECONNRESET'), incoming(), 'server_unavailable', 'transient', 'server'],
    // nodemailer's shapes, as the fault proxy produced them (test/integration/fault-proxy.test.ts).
    ['SMTP server silent mid-session', Object.assign(nodeError('ETIMEDOUT', 'Timeout'), { timeoutType: 'SOCKET_TIMEOUT', command: 'CONN' }), outgoing, 'server_unavailable', 'transient', 'server'],
    ['SMTP greeting never received', Object.assign(nodeError('ETIMEDOUT', 'Greeting never received'), { timeoutType: 'GREETING_TIMEOUT', command: 'CONN' }), outgoing, 'connect_failed', 'transient', 'server'],
    ['SMTP connection closed mid-session', Object.assign(nodeError('ECONNECTION', 'Connection closed unexpectedly'), { command: 'CONN' }), outgoing, 'server_unavailable', 'transient', 'server'],
    ['garbage from the server', nodeError('ParserError11', 'Unexpected char'), incoming(), 'protocol_error', 'transient', 'server'],
    ['our own refusal of a plaintext channel', new ClassifiedError('insecure_channel_refused', 'no TLS'), incoming(), 'insecure_channel_refused', 'permanent', 'server'],
    ['SMTP 535 bad password', smtpReply(535, '535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6', 'AUTH PLAIN', 'EAUTH'), outgoing, 'credentials_rejected', 'permanent', 'mailbox'],
    ['SMTP Microsoft 365 send-as denied', smtpReply(550, '550 5.7.60 SMTP; Client does not have permissions to send as this sender', 'DATA'), outgoing, 'insufficient_permissions', 'permanent', 'mailbox'],
    ['SMTP Microsoft 365 quota', smtpReply(554, '554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException', 'DATA'), outgoing, 'sending_limit_exceeded', 'transient', 'mailbox'],
    ['SMTP Gmail daily limit', smtpReply(550, '550 5.4.5 Daily user sending limit exceeded.', 'RCPT TO'), outgoing, 'sending_limit_exceeded', 'transient', 'mailbox'],
    ['SMTP 421 busy', smtpReply(421, '421 4.7.0 Temporary System Problem. Try again later', 'CONN'), outgoing, 'server_unavailable', 'transient', 'server'],
    ['SMTP 451 local error', smtpReply(451, '451 4.3.0 Local error in processing', 'DATA'), outgoing, 'server_unavailable', 'transient', 'server'],
    ['SMTP 550 unknown recipient', smtpReply(550, '550 5.1.1 <nobody@lab.example>: Recipient address rejected: User unknown', 'RCPT TO'), outgoing, 'send_rejected', 'permanent', 'mailbox'],
    ['SMTP server wants STARTTLS', smtpReply(530, '530 5.7.0 Must issue a STARTTLS command first', 'MAIL FROM'), outgoing, 'insecure_channel_refused', 'permanent', 'server'],
  ] as const)('%s', (_name, error, context, code, cls, scope) => {
    const c = classifyError(error, context);
    expect({ code: c.code, class: c.class, scope: c.scope, recognised: c.recognised }).toEqual({ code, class: cls, scope, recognised: true });
  });

  it('keeps the backoff the server suggested for throttling, and only there', () => {
    const throttled = classifyError(imapNo('Request is throttled. Suggested Backoff Time: 92415 milliseconds'), incoming());
    expect(throttled.retryAfterMs).toBe(92415);
    expect(classifyError(nodeError('ECONNREFUSED'), incoming()).retryAfterMs).toBeNull();
  });

  it('falls back to internal_error, transient, and says it did not recognise the error', () => {
    for (const error of [new Error('something odd'), 'a string', 42, null, { weird: true }]) {
      expect(classifyError(error, incoming())).toMatchObject({ code: 'internal_error', class: 'transient', recognised: false });
    }
  });

  it.each([
    // [case, error, the message people see]
    ['Dovecot LOGIN refused (recorded)', imapNo('Authentication failed.', { authenticationFailed: true, serverResponseCode: 'AUTHENTICATIONFAILED', executedCommand: '2 AUTHENTICATE PLAIN' }),
      'IMAP AUTHENTICATE PLAIN: server said NO [AUTHENTICATIONFAILED] Authentication failed.'],
    ['LOGIN: the arguments (username, hidden password) are not shown', imapNo('LOGIN failed.', { authenticationFailed: true, executedCommand: '4 LOGIN "ann@lab.example" "(* value hidden *)"' }),
      'IMAP LOGIN: server said NO LOGIN failed.'],
    ['Dovecot EXAMINE of a missing folder, its timing dropped (recorded)', imapNo("Mailbox doesn't exist: Nope (0.001 + 0.000 secs).", { mailboxMissing: true, executedCommand: '8 EXAMINE Nope' }),
      "IMAP EXAMINE: server said NO Mailbox doesn't exist: Nope."],
    ['a response code in the text as well is shown once', imapNo('[NOPERM] Permission denied', { serverResponseCode: 'NOPERM', executedCommand: '9 UID FETCH 1:* (UID)' }),
      'IMAP UID FETCH: server said NO [NOPERM] Permission denied'],
    ['only the tagged line: the tag is dropped', Object.assign(new Error('Command failed'), { responseStatus: 'BAD', response: '12 BAD Error in IMAP command received by server.' }),
      'IMAP: server said BAD Error in IMAP command received by server.'],
    ['BYE: the reason once', Object.assign(new Error('Connection closed'), { responseStatus: 'BYE', responseText: 'Account exceeded command or bandwidth limits. abc123' }),
      'IMAP: server said BYE Account exceeded command or bandwidth limits. abc123'],
    ['BYE without text: imapflow\'s reason', Object.assign(new Error('Server shutting down'), { responseStatus: 'BYE', code: 'NoConnection' }),
      'IMAP: server said BYE Server shutting down'],
    ['SMTP 535 (recorded from smtp-server)', smtpReply(535, '535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6', 'AUTH PLAIN', 'EAUTH'),
      'SMTP AUTH PLAIN: server said 535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6'],
    ['SMTP recipient refused (recorded)', Object.assign(new Error("Can't send mail - all recipients were rejected: 550 5.1.1 <x@lab.example>: Recipient address rejected: User unknown"),
      { code: 'EENVELOPE', response: '550 5.1.1 <x@lab.example>: Recipient address rejected: User unknown', responseCode: 550, command: 'RCPT TO' }),
    'SMTP RCPT TO: server said 550 5.1.1 <x@lab.example>: Recipient address rejected: User unknown'],
    ['SMTP multi-line greeting refusal', smtpReply(421, '421-4.7.0 Try again later\n421 4.7.0 closing', 'CONN'), 'SMTP connection: server said 421-4.7.0 Try again later 421 4.7.0 closing'],
    ['SMTP without a reply: nodemailer\'s words', Object.assign(new Error('Connection closed unexpectedly'), { code: 'ECONNECTION', command: 'CONN' }), 'Connection closed unexpectedly'],
    ['a socket error', nodeError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'), 'connect ECONNREFUSED 127.0.0.1:1'],
    ['a TLS error', nodeError('CERT_HAS_EXPIRED', 'certificate has expired'), 'certificate has expired'],
    ['our own error', new ClassifiedError('mailbox_location_unknown', 'autodiscover found no server for ann@nowhere.test'), 'autodiscover found no server for ann@nowhere.test'],
    ['control characters cannot forge a log line', imapNo('bad\r\n* OK [ALERT] forged\u001b[31m', { executedCommand: '3 SELECT INBOX' }), 'IMAP SELECT: server said NO bad * OK [ALERT] forged [31m'],
    ['not an error', 'a string', 'a string'],
  ] as const)('message: %s', (_name, error, message) => {
    expect(classifyError(error, incoming()).message).toBe(message);
  });

  it('never shows the login\'s password, even when the server echoes it', () => {
    const password = 'hunter2 with spaces';
    const echo = imapNo(`Error in IMAP command LOGIN: "ann" "${password}" rejected`, { executedCommand: '2 LOGIN "ann" "(* value hidden *)"' });
    const smtp = smtpReply(535, `535 5.7.8 bad credentials ${password}`, 'AUTH PLAIN', 'EAUTH');
    for (const error of [echo, smtp, new Error(`odd ${password}`)]) {
      const c = classifyError(error, { ...incoming(), secrets: [{ reveal: () => password }] });
      expect(c.message).not.toContain('hunter2');
      expect(c.message).toContain('[redacted]');
    }
  });

  it('bounds the message so that a hostile server cannot fill the store', () => {
    const c = classifyError(imapNo('x'.repeat(10_000), { authenticationFailed: true }), incoming());
    expect(c.message.length).toBeLessThanOrEqual(500);
  });
});

describe('TAXONOMY', () => {
  it('has one row per code, each with a runbook anchor and a documented alert', () => {
    const codes = TAXONOMY.map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const e of TAXONOMY) {
      expect(e.runbook).toMatch(/^[a-z_]+$/);
      expect(e.documentedAlert.length).toBeGreaterThan(0);
      // A permanent failure needs a person; retrying it would only hammer the server.
      if (e.class === 'permanent') expect(e.retry).toBe('never');
      else expect(e.retry).not.toBe('never');
      // An item failure never disables the mailbox, so nothing has to re-enable it.
      expect(e.level === 'item', e.code).toBe(e.reenabledBy === 'not_disabled');
    }
  });
});

describe('approval codes', () => {
  it('are the codes an approval block can raise, which approving re-enables', () => {
    const raised = new Set([false, true].flatMap((trusted) => [false, true].flatMap((processOnlyApproved) => [false, true].map((requireAdmin) =>
      approvalBlock({ approval: 'empty', approvedByRole: null }, trusted, { processOnlyApproved, requireAdminApprovalForTrustedProfiles: requireAdmin })))));
    raised.delete(null);
    expect([...raised].sort()).toEqual([...APPROVAL_CODES].sort());
    expect(TAXONOMY.filter((e) => e.reenabledBy === 'approval').map((e) => e.code)).toEqual(APPROVAL_CODES);
  });
});

describe('docs/taxonomy.md', () => {
  it('is the generated table, unchanged (run `npm run docs:taxonomy` after editing TAXONOMY)', () => {
    const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../docs/taxonomy.md');
    expect(readFileSync(file, 'utf8')).toBe(renderTaxonomyDoc());
  });
});
