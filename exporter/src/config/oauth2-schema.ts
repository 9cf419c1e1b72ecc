import { z } from 'zod';
import { secretInput } from './secret-input.js';

// A: OAuth2 logins (auth.mode: oauth2). The grant decides where the token comes from; the
// presets fill in the provider's token URL and scope (docs/configuration.md: OAuth2).
export const OAUTH2_PRESETS = {
  microsoft365: { tokenUrl: 'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token', scope: 'https://outlook.office365.com/.default' },
  google: { tokenUrl: 'https://oauth2.googleapis.com/token', scope: 'https://mail.google.com/' },
} as const;

export const oauth2Grant = z.enum(['client_credentials', 'jwt_bearer', 'refresh_token']);

export const oauth2Schema = z.strictObject({
  grant: oauth2Grant,
  preset: z.enum(Object.keys(OAUTH2_PRESETS) as [keyof typeof OAUTH2_PRESETS], { error: `must be one of: ${Object.keys(OAUTH2_PRESETS).join(', ')}` }).optional(),
  /** microsoft365: the directory (tenant) id or domain that replaces {tenant} in the preset's URL. */
  tenant: z.string().regex(/^[A-Za-z0-9.-]{1,128}$/, { error: 'must be a tenant id (GUID) or a domain' }).optional(),
  tokenUrl: z.string().min(1).optional(),
  clientId: z.string().min(1).optional(),
  /** Client authentication: a shared secret, or a private key that signs an RFC 7523 client assertion. */
  clientSecret: secretInput.optional(),
  privateKey: secretInput.optional(),
  /** Microsoft: the certificate's SHA-1 thumbprint (hex), sent as the assertion's x5t header. */
  certificateThumbprint: z.string().regex(/^[0-9A-Fa-f]{40}$/, { error: 'must be the 40 hex digits of the SHA-1 thumbprint' }).optional(),
  scope: z.string().min(1).optional(),
  /** jwt_bearer (Google domain-wide delegation): the service account's key file as downloaded (JSON). */
  serviceAccountKey: secretInput.optional(),
  /** A CA file for the token endpoint's certificate (private deployments, tests). */
  caFile: z.string().min(1).optional(),
  /** Default TOKEN_TIMEOUT_SECONDS (config/oauth2.ts): the section is optional, so its default is applied by the loader. */
  timeoutSeconds: z.number().int().positive().max(300).optional(),
});
