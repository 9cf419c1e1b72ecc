import type { Direction } from '@mailsync/contract';
import { failureMessage, type MessageFields } from './message.js';
import { taxonomyEntry, type ErrorClass, type ErrorCode, type Level, type Scope } from './taxonomy.js';

export { TAXONOMY, taxonomyEntry, isErrorCode } from './taxonomy.js';
export type { ErrorClass, ErrorCode, Level, Scope, TaxonomyEntry } from './taxonomy.js';

/** Where the credentials of the failed login came from (see protocols/login.ts). */
export type CredentialSource = 'mailbox' | 'profile' | 'impersonation';

export interface ClassifyContext {
  direction: Direction;
  credentialSource: CredentialSource;
  /** The failed login's secrets (its password), kept out of the message whatever the server echoed. */
  secrets?: readonly { reveal(): string }[];
}

export interface Classification {
  code: ErrorCode;
  class: ErrorClass;
  scope: Scope;
  level: Level;
  /** The delay the server asked for before the next attempt, when it named one. */
  retryAfterMs: number | null;
  /**
   * What happened, for people (the store, the API, the status page, the logs): the command and
   * the server's reply once, without IMAP tags or library prefixes; bounded; never a credential.
   */
  message: string;
  /** False when no rule matched and the code is the `internal_error` fallback. */
  recognised: boolean;
}

/**
 * An error mailsync raises itself already knows its code (an insecure channel refused before
 * connecting, autodiscover finding nothing, a foreign ownership mark). Protocol adapters attach it
 * as `mailsyncCode`.
 */
export class ClassifiedError extends Error {
  readonly mailsyncCode: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ClassifiedError';
    this.mailsyncCode = code;
  }
}

/** The fields of imapflow, nodemailer and Node errors the rules read. */
interface ErrorFields extends MessageFields {
  code?: string;
  mailsyncCode?: string;
  // imapflow
  authenticationFailed?: boolean;
  tlsFailed?: boolean;
  mailboxMissing?: boolean;
  throttleReset?: number;
  // nodemailer: which of its timers fired (every one is reported as ETIMEDOUT)
  timeoutType?: string;
}

/** Node and OpenSSL codes for a TLS handshake or certificate failure. */
const TLS_CODES = /^(CERT_|ERR_TLS_|ERR_SSL_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_VERIFY_LEAF_SIGNATURE$|UNABLE_TO_GET_ISSUER_CERT|HOSTNAME_MISMATCH$|ETLS$)/;
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'ENODATA', 'ESERVFAIL', 'EREFUSED', 'EDNS']);
const CONNECT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ETIMEDOUT', 'CONNECT_TIMEOUT', 'GREETING_TIMEOUT', 'UPGRADE_TIMEOUT']);
/**
 * The connection went away after it was established: the server or the path dropped it.
 * nodemailer's ECONNECTION is a close it did not ask for (mid-session, or right after accepting).
 */
const DROPPED_CODES = new Set(['ECONNECTION', 'ECONNRESET', 'EPIPE', 'NoConnection', 'EConnectionClosed', 'ClosedAfterConnectText', 'ClosedAfterConnectTLS', 'ETIMEOUT', 'ESOCKET', 'StateLogout']);
const PROTOCOL_CODES = /^(ParserError|InvalidResponse$|UnexpectedTag$|MissingTag$|LineTooLarge$|LiteralTooLarge$|ResponseTooLarge$|TooManyTokens$|TooManyResponses$|MAX_IMAP_NESTING_REACHED$|ResponseProcessingFailed$|STARTTLS_INJECTION$|COMPRESS_TRAILING_DATA$|EPROTOCOL$)/;

/** Texts hosted providers use when they throttle a client (Microsoft 365, Gmail, Yahoo). */
const THROTTLE_TEXT = /\[THROTTLED\]|Request is throttled|too many (simultaneous )?(connections|commands|requests)|rate limit|\[LIMIT\]|Account exceeded command or bandwidth limits/i;
const BACKOFF_HINT = /Backoff Time[:=\s]+(\d+)/i;
/** Texts that say the login worked but the account may not do this (Microsoft 365, Exchange, Dovecot). */
const PERMISSION_TEXT = /User is authenticated but not connected|not authorized to (act|log ?in) as|impersonat|IMAP access is disabled|SendAsDenied|does not have permissions? to send|not owned by (the )?(authenticated )?user|Sender address rejected/i;
/** Sending quota replies (Microsoft 365 5.2.0 SubmissionQuotaExceeded, Gmail 5.4.5 daily limit, Yahoo). */
const QUOTA_TEXT = /\b5\.4\.5\b|SubmissionQuotaExceeded|quota exceeded|sending limit|daily (user )?sending|message limit|recipient rate limit|too many recipients|exceeded .*limit/i;

/**
 * B: text fallbacks for the response codes read below, for servers that send none (Courier, older
 * Cyrus, Exchange's IMAP4 service, hosted front ends); what each family was seen to send is in
 * docs/servers.md. Each stands for one code: NONEXISTENT, UNAVAILABLE/INUSE, PRIVACYREQUIRED.
 */
const NONEXISTENT_TEXT = /\b(does ?n[o']t exist|no such (mailbox|folder)|unknown (mailbox|folder)|mailbox not found|folder not found)\b/i;
const UNAVAILABLE_TEXT = /\b(temporar(y|ily) (authentication )?(unavailable|failure)|try again later|service unavailable|server busy|mailbox (is )?(in use|locked))\b/i;
const PRIVACY_TEXT = /\b(plaintext authentication (is )?disallowed|(ssl|tls|starttls|encryption) (is )?required|must (issue a )?starttls|use starttls first)\b/i;

/**
 * Classifies a failure against the taxonomy. Pure: reads only the error's own fields, never the
 * network. Rules run from the most specific (our own codes, TLS) to the most general (socket
 * codes); anything unmatched is `internal_error`, transient, with `recognised: false` so the caller
 * logs the raw error for the next improvement of these rules.
 */
export function classifyError(error: unknown, context: ClassifyContext): Classification {
  const e = fieldsOf(error);
  const text = [e.message, e.responseText, typeof e.response === 'string' ? e.response : undefined]
    .filter((t): t is string => typeof t === 'string' && t.length > 0)
    .filter((t, i, all) => all.indexOf(t) === i)
    .join(': ');
  const match = rules(e, text);
  const code = match?.code ?? 'internal_error';
  const entry = taxonomyEntry(code);
  const scope = entry.scope === 'credential_source'
    ? (context.credentialSource === 'mailbox' ? 'mailbox' : 'server')
    : entry.scope;
  return {
    code,
    class: entry.class,
    scope,
    level: entry.level,
    retryAfterMs: entry.retry === 'server_hint' ? (match?.retryAfterMs ?? null) : null,
    message: failureMessage(error, e, { secrets: context.secrets?.map((s) => s.reveal()) ?? [] }),
    recognised: match !== undefined,
  };
}

interface Match {
  code: ErrorCode;
  retryAfterMs?: number | null;
}

function rules(e: ErrorFields, text: string): Match | undefined {
  if (e.mailsyncCode) return { code: e.mailsyncCode as ErrorCode };
  if (e.tlsFailed || (e.code && TLS_CODES.test(e.code)) || (e.code === 'EPROTO' && /ssl|tls|wrong version/i.test(text))) {
    return { code: 'secure_connection_failed' };
  }
  if (e.code === 'ETHROTTLE' || THROTTLE_TEXT.test(text)) {
    return { code: 'provider_throttled', retryAfterMs: e.throttleReset ?? hintFrom(text) };
  }
  if (typeof e.responseCode === 'number') return smtpRule(e, text);
  if (e.authenticationFailed) return authRule(e, text);
  const rc = e.serverResponseCode?.toUpperCase();
  if (e.code === 'NotFound' || e.mailboxMissing || rc === 'NONEXISTENT') return { code: 'mailbox_not_found' };
  if (rc === 'NOPERM' || PERMISSION_TEXT.test(text)) return { code: 'insufficient_permissions' };
  if (rc === 'UNAVAILABLE' || rc === 'INUSE' || rc === 'SERVERBUG') return { code: 'server_unavailable' };
  if (rc === 'PRIVACYREQUIRED') return { code: 'insecure_channel_refused' };
  if (!rc && isImapRefusal(e)) {
    if (NONEXISTENT_TEXT.test(text)) return { code: 'mailbox_not_found' };
    if (PRIVACY_TEXT.test(text)) return { code: 'insecure_channel_refused' };
    if (UNAVAILABLE_TEXT.test(text)) return { code: 'server_unavailable' };
  }
  if (e.code && DNS_CODES.has(e.code)) return { code: 'dns_failed' };
  // A session that was up and then stopped answering, as imapflow's ETIMEOUT says for IMAP; not
  // a connect failure, although nodemailer gives it the same ETIMEDOUT as its connect timeout.
  if (e.timeoutType === 'SOCKET_TIMEOUT') return { code: 'server_unavailable' };
  if (e.code && CONNECT_CODES.has(e.code)) return { code: 'connect_failed' };
  if (e.responseStatus === 'BYE' || (e.code && DROPPED_CODES.has(e.code))) return { code: 'server_unavailable' };
  if (e.code && PROTOCOL_CODES.test(e.code)) return { code: 'protocol_error' };
  return undefined;
}

/** IMAP LOGIN/AUTHENTICATE refused: RFC 5530 response codes first, then provider texts. */
function authRule(e: ErrorFields, text: string): Match {
  switch (e.serverResponseCode?.toUpperCase()) {
    case 'AUTHORIZATIONFAILED': return { code: 'insufficient_permissions' };
    case 'UNAVAILABLE': return { code: 'server_unavailable' };
    case 'PRIVACYREQUIRED': return { code: 'insecure_channel_refused' };
    case 'CONTACTADMIN': return { code: 'insufficient_permissions' };
    default: break;
  }
  if (PERMISSION_TEXT.test(text)) return { code: 'insufficient_permissions' };
  if (PRIVACY_TEXT.test(text)) return { code: 'insecure_channel_refused' };
  if (UNAVAILABLE_TEXT.test(text)) return { code: 'server_unavailable' };
  // Dovecot refuses a master user who may not act as the target in the same words as a bad
  // password, so without one of the codes above it is a rejected credential.
  return { code: 'credentials_rejected' };
}

/** SMTP replies (nodemailer puts the reply code in `responseCode` and the phase in `command`). */
function smtpRule(e: ErrorFields, text: string): Match {
  const reply = e.responseCode as number;
  const command = (e.command ?? '').toUpperCase();
  if (QUOTA_TEXT.test(text)) return { code: 'sending_limit_exceeded', retryAfterMs: hintFrom(text) };
  if (command.startsWith('AUTH') || e.code === 'EAUTH') {
    if (reply === 454 || (reply >= 400 && reply < 500)) return { code: 'server_unavailable' };
    if (PERMISSION_TEXT.test(text)) return { code: 'insufficient_permissions' };
    return { code: 'credentials_rejected' };
  }
  if (reply === 530 && /STARTTLS/i.test(text)) return { code: 'insecure_channel_refused' };
  if (PERMISSION_TEXT.test(text)) return { code: 'insufficient_permissions' };
  if (reply === 421 || reply === 450 || reply === 451 || reply === 452 || (reply >= 400 && reply < 500)) {
    return { code: 'server_unavailable' };
  }
  if (reply === 554 && command === 'CONN') return { code: 'server_unavailable' };
  if (reply >= 500) return { code: 'send_rejected' };
  return { code: 'protocol_error' };
}

/** A tagged NO or BAD from an IMAP server (not a socket or library error whose text could match by chance). */
function isImapRefusal(e: ErrorFields): boolean {
  const status = e.responseStatus?.toUpperCase();
  return status === 'NO' || status === 'BAD';
}

function hintFrom(text: string): number | null {
  const ms = BACKOFF_HINT.exec(text)?.[1];
  return ms === undefined ? null : Number(ms);
}

function fieldsOf(error: unknown): ErrorFields {
  if (typeof error === 'object' && error !== null) return error as ErrorFields;
  return { message: String(error) };
}
