import type { z } from 'zod';
import type { actSchema, authMode, configSchema, credentials, declaredApproval, mailboxSchema, oauth2Grant, outgoingSchema, profileSchema, role, security } from './schema.js';
import type { Secret } from './secret.js';

// The config's types are the schema's output types (defaults applied, ports and sending limits
// resolved by its transforms), changed only where the loader does more than the schema can:
// secrets are read, `startFrom` falls back to the sync default, `file` and `warnings` are added.
// A key added to the schema therefore appears here without being written twice.

/** `T` with the keys of `U` replaced by `U`'s types. */
type With<T, U> = Omit<T, keyof U> & U;

type RawProfile = z.output<typeof profileSchema>;

export type Security = z.output<typeof security>;
export type AuthMode = z.output<typeof authMode>;
export type Role = z.output<typeof role>;

export type Credentials = With<z.output<typeof credentials>, { password: Secret }>;

/** `limits` is resolved from a preset or the explicit values; undefined means no limit. */
export type OutgoingServer = z.output<typeof outgoingSchema>;

/** C: the CalDAV/CardDAV server of a profile (docs/configuration.md: act). */
export type ActServer = z.output<typeof actSchema>;
/**
 * A: an OAuth2 login as resolved by the loader: the preset applied (URL with the tenant, scope),
 * secrets read, keys parsed. Exactly one client authentication is set for client_credentials and
 * refresh_token (`clientSecret` or `privateKey`); jwt_bearer signs with the service account's key.
 */
export interface OAuth2Settings {
  grant: z.output<typeof oauth2Grant>;
  tokenUrl: string;
  clientId: string;
  scope: string;
  clientSecret: Secret | undefined;
  /** PKCS#8 PEM that signs the RFC 7523 client assertion (Microsoft's certificate credential). */
  privateKey: Secret | undefined;
  certificateThumbprint: string | undefined;
  serviceAccount: { clientEmail: string; privateKeyId: string | undefined; privateKey: Secret } | undefined;
  caFile: string | undefined;
  timeoutSeconds: number;
}

/** `incoming.host` is undefined when the server is found by autodiscover from each mailbox's address. */
export type Profile = With<RawProfile, {
  auth: With<RawProfile['auth'], { credentials: Credentials | undefined; oauth2: OAuth2Settings | undefined }>;
}>;

/** An approval written in the config, and which key declared it (for messages and the audit log). */
export type DeclaredApproval = z.output<typeof declaredApproval> & { declaredAt: string };

export type Mailbox = With<z.output<typeof mailboxSchema>, {
  credentials: Credentials | undefined;
  /** A: the initial refresh token (grant refresh_token); a rotated one in the store wins over it. */
  refreshToken: Secret | undefined;
  /** The mailbox's own `approval`, else its profile's, else undefined. */
  approval: DeclaredApproval | undefined;
  /** 'all' or a YYYY-MM-DD date; the mailbox's own value, else the sync default. */
  startFrom: string;
}>;

export type ApiToken = With<z.output<typeof configSchema>['api']['tokens'][number], { token: Secret }>;

/** F: a webhook with its signing secret read. */
export type Webhook = With<z.output<typeof configSchema>['webhooks'][number], { secret: Secret }>;

export type Config = With<z.output<typeof configSchema>, {
  webhooks: Webhook[];
  profiles: Profile[];
  store: {
    path: string; encryptionKey: Secret | undefined; /** E: pack files folder; unset: `<path>.packs`. */ packDir?: string;
    /** A: sqlite (the file at `path`) or postgresql (`postgresql`, shared by several runners). */
    driver: 'sqlite' | 'postgresql';
    postgresql?: StorePostgresql;
  };
  api: { tokens: ApiToken[] };
  mailboxes: Mailbox[];
  /** Absolute path of the file this config was read from. */
  file: string;
  /** Things that are allowed but unwise (inline secrets, plaintext servers). */
  warnings: string[];
}>;

/** A: the PostgreSQL store's connection as resolved: the url a secret (it may carry a password), file paths absolute. */
export interface StorePostgresql {
  url: Secret;
  ssl: { mode: 'disable' | 'require' | 'verify-full'; caFile?: string; certFile?: string; keyFile?: string };
  poolSize: number;
}
