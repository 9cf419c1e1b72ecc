import { describe, expect, it } from 'vitest';
import { Secret } from '../config/index.js';
import { davAuthorization } from './connections.js';

describe('the CalDAV/CardDAV authorization header', () => {
  it('is Basic with the password for password logins', () => {
    const header = davAuthorization({ user: 'ann@example.com', password: new Secret('pw-ann', 'test') });
    expect(header).toBe(`Basic ${Buffer.from('ann@example.com:pw-ann').toString('base64')}`);
  });

  it('is a bearer token for an OAuth2 login, never the user name and token as Basic', () => {
    const oauth = { key: 'k', label: 'lab', settings: { grant: 'client_credentials' } } as never;
    const header = davAuthorization({ user: 'ann@example.com', password: new Secret('at-token-value', 'oauth2'), oauth });
    expect(header).toBe('Bearer at-token-value');
  });
});
