/**
 * The one place where a failed cycle is turned into a recorded code and message. The error
 * taxonomy (classify/, with permanent/transient class and server/mailbox scope) replaces the body
 * of this function; until then the codes are the taxonomy's names for what can be told apart here.
 */
export interface CycleFailure {
  code: string;
  message: string;
}

const TLS_CODES = /^(CERT_|ERR_TLS_|ERR_SSL_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT)/;

interface ImapLikeError {
  code?: string;
  authenticationFailed?: boolean;
  responseText?: string;
  message?: string;
}

export function describeFailure(error: unknown): CycleFailure {
  const e = (typeof error === 'object' && error !== null ? error : { message: String(error) }) as ImapLikeError;
  const text = [e.message, e.responseText].filter(Boolean).join(': ');
  // Server texts are bounded so that a hostile server cannot fill the store through our history.
  const message = text.length > 500 ? `${text.slice(0, 497)}...` : text;
  const code = (() => {
    if (e.code === 'INSECURE_CHANNEL_REFUSED') return 'insecure_channel_refused';
    if (e.authenticationFailed) return 'credentials_rejected';
    if (e.code && TLS_CODES.test(e.code)) return 'secure_connection_failed';
    if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return 'dns_failed';
    if (e.code === 'ECONNREFUSED' || e.code === 'ETIMEDOUT' || e.code === 'CONNECT_TIMEOUT' || e.code === 'EHOSTUNREACH') return 'connect_failed';
    if (e.code === 'NotFound') return 'mailbox_not_found';
    return 'internal_error';
  })();
  return { code, message };
}
