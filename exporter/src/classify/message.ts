/**
 * The one line a person reads about a failure (the store, the API, the status page and the logs
 * show it): what we were doing and the server's own words once, without the protocol's
 * bookkeeping. imapflow's message is "Command failed" and its `response` is the tagged line again
 * ("2 NO [AUTHENTICATIONFAILED] Authentication failed."); nodemailer prefixes its own words to the
 * reply. Joining every field repeated the server's text two or three times around an IMAP tag.
 * Pure; the raw fields go to the debug log from the caller (`directions/classify.ts`).
 */

/** The fields of imapflow, nodemailer and Node errors the message is built from. */
export interface MessageFields {
  message?: string;
  // imapflow
  responseStatus?: string;
  responseText?: string;
  serverResponseCode?: string;
  executedCommand?: string;
  // nodemailer
  responseCode?: number;
  command?: string;
  response?: unknown;
}

export const MAX_MESSAGE = 500;

/** Dovecot appends how long a command took, "(0.001 + 0.000 secs).": it differs every time and says nothing about the failure. */
const DOVECOT_TIMING = /\s*\(\d+\.\d+(?: \+ \d+\.\d+)* secs\)(?=\.?$)/;
/** Line breaks of multi-line replies, and control characters a hostile server could use to forge log lines or terminal output. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]+/g;
/** nodemailer's `command` for phases that are no SMTP command. */
const SMTP_PHASES: Record<string, string> = { CONN: 'connection', API: '' };

export interface MessageOptions {
  /** Values that must never appear in the message (the login's password), replaced by `[redacted]`. */
  secrets?: readonly string[];
}

export function failureMessage(error: unknown, e: MessageFields, options: MessageOptions = {}): string {
  const text = imapReply(e) ?? smtpReply(e) ?? ownText(error, e);
  // Redacted before cleaning, which could change a password's spaces, and before bounding, which could cut one in half.
  return bound(clean(redact(text, options.secrets ?? [])));
}

/** A tagged NO/BAD or a BYE from an IMAP server: "IMAP EXAMINE: server said NO [NONEXISTENT] ...". */
function imapReply(e: MessageFields): string | undefined {
  const status = e.responseStatus?.toUpperCase();
  if (status !== 'NO' && status !== 'BAD' && status !== 'BYE') return undefined;
  const code = e.serverResponseCode ? `[${e.serverResponseCode.toUpperCase()}] ` : '';
  const line = typeof e.response === 'string' ? untagged(e.response, status) : '';
  // imapflow's own message for a BYE is the server's reason; for a NO or BAD it is only "Command failed".
  const words = e.responseText || line || (status === 'BYE' ? e.message ?? '' : '');
  const command = imapCommand(e.executedCommand);
  // The response code is shown once, from its own field, even when the text carries it too.
  const said = code ? words.replace(/^\[[^\]]*\]\s*/, '') : words;
  return `IMAP${command ? ` ${command}` : ''}: server said ${status} ${code}${said}`.trimEnd();
}

/** The verb of the command imapflow sent, never its arguments (a LOGIN's carry the username and a placeholder). */
function imapCommand(executed: string | undefined): string {
  const [, verb, next] = /^\S+ ([A-Z]+)(?: ([A-Z0-9-]+)\b)?/.exec(executed ?? '') ?? [];
  if (!verb) return '';
  // "UID FETCH", "AUTHENTICATE PLAIN": the second word is part of the command; elsewhere it is an argument.
  return next && (verb === 'UID' || verb === 'AUTHENTICATE') ? `${verb} ${next}` : verb;
}

function untagged(line: string, status: string): string {
  const at = line.toUpperCase().indexOf(`${status} `);
  return at < 0 ? line : line.slice(at + status.length + 1);
}

/** An SMTP reply nodemailer received: "SMTP AUTH PLAIN: server said 535 5.7.8 ...". */
function smtpReply(e: MessageFields): string | undefined {
  if (typeof e.response !== 'string' || !/^\d{3}\b/.test(e.response)) return undefined;
  const phase = e.command === undefined ? '' : (SMTP_PHASES[e.command] ?? e.command);
  return `SMTP${phase ? ` ${phase}` : ''}: server said ${e.response}`;
}

/** No server reply: our own errors, Node's socket, DNS and TLS errors, nodemailer's own checks. */
function ownText(error: unknown, e: MessageFields): string {
  if (typeof e.message === 'string' && e.message !== '') return e.message;
  return typeof error === 'string' ? error : String(error);
}

function clean(text: string): string {
  return text.replace(CONTROL, ' ').replace(/\s{2,}/g, ' ').replace(DOVECOT_TIMING, '').trim();
}

/** A server that echoes the command it refused (some do, with its arguments) would otherwise put the password in our history. */
function redact(text: string, secrets: readonly string[]): string {
  return secrets.filter((s) => s !== '').reduce((t, s) => t.split(s).join('[redacted]'), text);
}

/** Server texts are bounded so that a hostile server cannot fill the store through our history. */
function bound(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 3)}...` : text;
}
