import { ClassifiedError, type ErrorCode } from '../../classify/index.js';

/** The commands whose refusal is about the login (RFC 1939 USER/PASS/APOP, RFC 5034 AUTH). */
const LOGIN_COMMANDS = new Set(['USER', 'PASS', 'APOP', 'AUTH']);

/**
 * Texts of servers that send no RFC 2449 response codes, or send them only for some replies
 * (docs/servers.md lists what each family was seen to send). Locked maildrops: Dovecot's
 * "[IN-USE] Mailbox is locked", qpopper's and Courier's "mailbox locked"/"in use". Temporary
 * failures: "try again later", "temporarily unavailable".
 */
const IN_USE_TEXT = /\b(in use|locked|lock (busy|held)|another (pop3 )?session)\b/i;
const TEMPORARY_TEXT = /\b(try again|temporar(y|ily)|unavailable|too busy|server busy|internal error)\b/i;
const LOGIN_DELAY_TEXT = /\b(login delay|logging in too often|too many logins?)\b/i;
const DISABLED_TEXT = /\b(pop3? (access )?(is )?(disabled|not (enabled|allowed))|not allowed to use pop|account (is )?(disabled|suspended|locked out))\b/i;

/**
 * The taxonomy code of a POP3 -ERR: the RFC 2449 / RFC 3206 response code when the server sent
 * one, else the text, else what the command was. Pure.
 * - [AUTH]: the credentials are wrong (permanent);
 * - [SYS/TEMP], [IN-USE] (another session holds the maildrop's lock): transient;
 * - [LOGIN-DELAY]: the server limits how often this user may log in: throttled;
 * - [SYS/PERM]: the server will not serve this user until someone acts (POP3 disabled for the
 *   account, account locked): permanent, a permission matter like IMAP access disabled.
 */
export function pop3ErrorCode(command: string, responseCode: string | undefined, text: string): ErrorCode {
  switch (responseCode?.toUpperCase().split('/').slice(0, 2).join('/')) {
    case 'AUTH': return 'credentials_rejected';
    case 'SYS/TEMP': return 'server_unavailable';
    case 'IN-USE': return 'server_unavailable';
    case 'LOGIN-DELAY': return 'provider_throttled';
    case 'SYS/PERM': return 'insufficient_permissions';
    default: break;
  }
  if (LOGIN_DELAY_TEXT.test(text)) return 'provider_throttled';
  if (IN_USE_TEXT.test(text) || TEMPORARY_TEXT.test(text)) return 'server_unavailable';
  if (DISABLED_TEXT.test(text)) return 'insufficient_permissions';
  if (command === 'STLS') return 'secure_connection_failed';
  // Like IMAP: a refused login without a code is a rejected credential ("authentication failure").
  if (LOGIN_COMMANDS.has(command)) return 'credentials_rejected';
  return 'protocol_error';
}

/** "[IN-USE] Mailbox is locked" -> { code: 'IN-USE', text: 'Mailbox is locked' }. */
export function splitResponseCode(text: string): { responseCode: string | undefined; words: string } {
  const m = /^\[([^\]]{1,64})\]\s*(.*)$/.exec(text);
  return m ? { responseCode: m[1] as string, words: m[2] as string } : { responseCode: undefined, words: text };
}

/** A -ERR from the server, already classified; the message names the command, never its arguments. */
export class Pop3ReplyError extends ClassifiedError {
  readonly command: string;
  readonly serverResponseCode: string | undefined;

  constructor(command: string, text: string) {
    const { responseCode, words } = splitResponseCode(text);
    super(pop3ErrorCode(command, responseCode, words), `POP3 ${command}: server said -ERR ${responseCode ? `[${responseCode.toUpperCase()}] ` : ''}${words}`.trimEnd());
    this.name = 'Pop3ReplyError';
    this.command = command;
    this.serverResponseCode = responseCode;
  }
}
