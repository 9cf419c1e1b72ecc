import { classifyError, type Classification } from '../classify/index.js';
import type { Logger } from '../log.js';
import type { CredentialSource } from '../protocols/login.js';
import type { Direction } from '../store/index.js';

/** The login a failure happened under: where its credentials came from, and the password to keep out of texts. */
export interface FailedLogin {
  source: CredentialSource;
  login: { password: { reveal(): string } };
}

/**
 * Classifies a direction's failure, the one way every caller does it. The classification's
 * message is the clean text people read; the error's raw fields (the tagged IMAP line, the SMTP
 * reply with nodemailer's prefix) go to the debug log for whoever debugs the protocol, or to warn
 * when no rule matched, so the rules can learn the error.
 */
export function classifyFailure(error: unknown, direction: Direction, login: FailedLogin, log: Logger, options: { aborted?: boolean } = {}): Classification {
  const c = classifyError(error, { direction, credentialSource: login.source, secrets: [login.login.password] });
  const raw = redactRaw(rawError(error), login.login.password.reveal());
  if (!c.recognised && !options.aborted) log.warn({ err: raw }, 'unrecognised error, classified as internal_error: please report it so it can be classified');
  else log.debug({ err: raw, code: c.code }, `${direction} failure: the error as the library raised it`);
  return c;
}

/** The fields of an error worth keeping to improve the classifier; never the whole object (it may hold a socket). */
export function rawError(error: unknown): Record<string, unknown> {
  if (typeof error !== 'object' || error === null) return { value: String(error) };
  const e = error as Record<string, unknown>;
  const keep = ['name', 'message', 'code', 'responseStatus', 'responseText', 'serverResponseCode', 'executedCommand', 'responseCode', 'command', 'response'];
  return Object.fromEntries(keep.filter((k) => e[k] !== undefined).map((k) => [k, typeof e[k] === 'string' ? (e[k] as string).slice(0, 500) : e[k]]));
}

/** The raw fields are the server's too: a server that echoed the password must not put it in the log either. */
function redactRaw(raw: Record<string, unknown>, secret: string): Record<string, unknown> {
  if (secret === '') return raw;
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, typeof v === 'string' ? v.split(secret).join('[redacted]') : v]));
}
