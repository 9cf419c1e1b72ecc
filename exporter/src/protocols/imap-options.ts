import type { ImapFlowOptions } from 'imapflow';
import type { OAuthLogin } from '../auth/login.js';
import type { Secret, Security } from '../config/index.js';
import type { Logger } from '../log.js';
import { assertChannelAllowed, type ChannelPolicy } from './channel.js';
import { clientContext } from './tls-context.js';
import { imapLogger } from './imap-logger.js';

export interface ImapEndpoint {
  host: string;
  port: number;
  security: Security;
  caFile: string | undefined;
  timeouts: { connectSeconds: number; greetingSeconds: number; socketSeconds: number };
}

export interface ImapLogin {
  user: string;
  password: Secret;
  /** For impersonation: log in as `user` (the service account), act as `authzid` (SASL PLAIN). */
  authzid?: string;
  /** OAuth2: `password` holds the access token, sent with OAUTHBEARER or XOAUTH2 (imapflow picks). */
  oauth?: OAuthLogin;
}

/** Decides the TLS settings, refusing combinations the organization does not allow. */
export function clientOptions(endpoint: ImapEndpoint, login: ImapLogin, policy: ChannelPolicy, logger: Logger): ImapFlowOptions {
  assertChannelAllowed(endpoint, policy);
  return {
    host: endpoint.host,
    port: endpoint.port,
    secure: endpoint.security === 'tls',
    // STARTTLS is required, not opportunistic: a stripped capability must fail, not downgrade.
    doSTARTTLS: endpoint.security === 'starttls' ? true : endpoint.security === 'none' ? false : undefined,
    tls: {
      rejectUnauthorized: true,
      // The CA and the TLSv1.2 floor live in one context shared per CA file, not one built per
      // login (tls-context.ts says what each cost).
      secureContext: endpoint.security === 'none' ? undefined : clientContext(endpoint.caFile),
    },
    auth: login.oauth
      ? { user: login.user, accessToken: login.password.reveal() }
      : {
        user: login.user,
        pass: login.password.reveal(),
        ...(login.authzid ? { authzid: login.authzid, loginMethod: 'AUTH=PLAIN' } : {}),
      },
    connectionTimeout: endpoint.timeouts.connectSeconds * 1_000,
    greetingTimeout: endpoint.timeouts.greetingSeconds * 1_000,
    socketTimeout: endpoint.timeouts.socketSeconds * 1_000,
    disableAutoIdle: true,
    logger: imapLogger(logger),
  };
}
