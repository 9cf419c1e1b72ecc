import { describe, expect, it } from 'vitest';
import { classifyError, ClassifiedError } from './index.js';
import { tokenErrorCode, tokenErrorText } from './oauth.js';

// The bodies as the providers send them: Microsoft's with error_codes and trace ids, Google's with error and description only.
const ms = (error: string, code: number, text: string) => ({
  error, error_description: `AADSTS${code}: ${text}\r\nTrace ID: 0b1c\r\nCorrelation ID: 9f2e\r\nTimestamp: 2026-12-01 10:00:00Z`,
  error_codes: [code], timestamp: '2026-12-01 10:00:00Z', trace_id: '0b1c', correlation_id: '9f2e',
});

describe('token endpoint answers, classified', () => {
  it.each([
    [400, ms('invalid_grant', 50173, 'The provided grant has expired due to it being revoked.'), 'credentials_rejected'],
    [401, ms('invalid_client', 7000215, 'Invalid client secret provided.'), 'credentials_rejected'],
    [400, ms('invalid_grant', 65001, 'The user or administrator has not consented to use the application.'), 'oauth_consent_required'],
    [400, { error: 'consent_required', error_description: 'AADSTS65001: ...' }, 'oauth_consent_required'],
    [400, ms('unauthorized_client', 700016, 'Application was not found in the directory.'), 'insufficient_permissions'],
    [400, ms('invalid_scope', 70011, 'The provided value for the input parameter \'scope\' is not valid.'), 'profile_invalid'],
    [400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' }, 'credentials_rejected'],
    [401, { error: 'unauthorized_client', error_description: 'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.' }, 'oauth_consent_required'],
    [503, ms('temporarily_unavailable', 90033, 'A transient error has occurred.'), 'server_unavailable'],
    [502, undefined, 'server_unavailable'],
    [429, { error: 'rate_limit' }, 'provider_throttled'],
    [400, { error: 'something_new' }, 'internal_error'],
  ] as const)('HTTP %i %j → %s', (status, body, code) => {
    expect(tokenErrorCode(status, body)).toBe(code);
  });

  it('keeps the endpoint\'s first line, not Microsoft\'s trace lines', () => {
    expect(tokenErrorText(400, ms('invalid_grant', 50173, 'Revoked.'))).toBe('invalid_grant: AADSTS50173: Revoked.');
  });

  it('scopes a refused grant by credential source, as for passwords', () => {
    const error = new ClassifiedError('credentials_rejected', 'token endpoint t refused: invalid_grant');
    expect(classifyError(error, { direction: 'incoming', credentialSource: 'mailbox' }).scope).toBe('mailbox');
    expect(classifyError(error, { direction: 'incoming', credentialSource: 'profile' }).scope).toBe('server');
    expect(classifyError(new ClassifiedError('connect_failed', 'token endpoint t: ECONNREFUSED'), { direction: 'incoming', credentialSource: 'profile' }).class).toBe('transient');
  });
});
