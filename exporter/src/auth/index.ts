/**
 * OAuth2 logins (auth.mode: oauth2): token endpoint grants, the token cache, rotated refresh tokens.
 *
 * For a protocol adapter (IMAP, SMTP, and POP3's `AUTH XOAUTH2`), the whole interface is:
 *
 *   const login = oauthLoginFor(mailbox, profile);      // who the token is for (cache key, grant)
 *   const token = await tokens.get(login, signal);       // a Secret: cached, or fetched once for all callers
 *   ... authenticate as { user: mailbox.address, accessToken: token.reveal() } ...
 *   // the server refused it (expired early, revoked): drop it, then try once more with a fresh one
 *   tokens.invalidate(login, token);
 *
 * `tokens` is the runner's one TokenSource (`DirectionDeps.tokens`), so IMAP, SMTP and POP3 of
 * one login share a token. protocols/login.ts `withTokenRetry` does the get / invalidate / retry
 * once around any `open(login)`; a POP3 client can use it as IMAP does. Failures are
 * ClassifiedErrors with the taxonomy's codes (classify/oauth.ts). A token is never logged.
 */
export { oauthLoginFor, type OAuthLogin } from './login.js';
export { TokenProvider, type TokenSource, type TokenProviderDeps } from './tokens.js';
