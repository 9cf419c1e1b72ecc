import type { ErrorCode } from './taxonomy.js';

/**
 * The body of a token endpoint's error (RFC 6749 5.2). Microsoft adds `error_codes` (the AADSTS
 * numbers), `timestamp`, `trace_id` and `correlation_id`; Google sends `error` and
 * `error_description` only.
 */
export interface TokenErrorBody {
  error?: unknown;
  error_description?: unknown;
  error_codes?: unknown;
}

/** Microsoft's "the admin has not consented" family: AADSTS65001 (no consent), 65004 (declined), 90094 (admin approval needed). */
const CONSENT_AADSTS = new Set([65001, 65004, 90094]);
/** Google's answer when the Workspace admin has not authorised the client (domain-wide delegation) for the scope. */
const GOOGLE_NOT_AUTHORIZED = /not authorized for any of the scopes requested/i;

/**
 * The taxonomy code of a token endpoint's answer that issued no token. Pure: status and body only.
 * - consent missing (AADSTS65001, `consent_required`, Google's delegation not authorised) →
 *   oauth_consent_required, the "requires approval by an administrator" alert;
 * - a grant or client the endpoint rejects (`invalid_grant`: a refresh token expired or revoked, an
 *   assertion refused; `invalid_client`: a wrong secret or key) → credentials_rejected;
 * - `unauthorized_client` (this client may not use this grant) → insufficient_permissions;
 * - `invalid_scope`, `unsupported_grant_type`, `invalid_request` → profile_invalid (the profile asks wrongly);
 * - 429 → provider_throttled; 5xx or a non-JSON answer → server_unavailable (transient: a token
 *   endpoint's outage must not disable the fleet at once, as for a DNS failure);
 * - anything else → internal_error, logged so it can be learnt.
 */
export function tokenErrorCode(status: number, body: TokenErrorBody | undefined): ErrorCode {
  if (status === 429) return 'provider_throttled';
  if (status >= 500 || body === undefined) return 'server_unavailable';
  const error = typeof body.error === 'string' ? body.error : '';
  const description = typeof body.error_description === 'string' ? body.error_description : '';
  const codes = Array.isArray(body.error_codes) ? body.error_codes.filter((c): c is number => typeof c === 'number') : [];
  if (error === 'consent_required' || codes.some((c) => CONSENT_AADSTS.has(c)) || /\bAADSTS65001\b/.test(description)) return 'oauth_consent_required';
  if (error === 'unauthorized_client' && GOOGLE_NOT_AUTHORIZED.test(description)) return 'oauth_consent_required';
  switch (error) {
    case 'invalid_grant':
    case 'invalid_client':
      return 'credentials_rejected';
    case 'unauthorized_client':
    case 'access_denied':
      return 'insufficient_permissions';
    case 'invalid_scope':
    case 'unsupported_grant_type':
    case 'invalid_request':
      return 'profile_invalid';
    case 'temporarily_unavailable':
      return 'server_unavailable';
    default:
      return 'internal_error';
  }
}

/** The endpoint's own words, short: `invalid_grant: AADSTS70000: ...` (first line; Microsoft appends trace ids). */
export function tokenErrorText(status: number, body: TokenErrorBody | undefined): string {
  if (body === undefined) return `HTTP ${status}`;
  const error = typeof body.error === 'string' ? body.error : `HTTP ${status}`;
  const description = typeof body.error_description === 'string' ? (body.error_description.split(/\r?\n/)[0] ?? '') : '';
  return (description ? `${error}: ${description}` : error).slice(0, 300);
}
