export { loadConfigFile, parseConfig, resolveConfigPath, DEFAULTS } from './load.js';
export type { Config, Profile, Mailbox, Credentials, Security, AuthMode, ApiToken, Role, OutgoingServer, ActServer, OAuth2Settings, Webhook } from './types.js';
export { ConfigError } from './errors.js';
export { Secret } from './secret.js';
