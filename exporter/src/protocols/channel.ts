import { readFileSync } from 'node:fs';
import { ClassifiedError } from '../classify/index.js';
import type { Security } from '../config/index.js';

/** Organization-wide rules about channels without TLS (deployment-level in the product). */
export interface ChannelPolicy {
  allowNonTlsServers: boolean;
  allowCredentialsOverInsecureChannel: boolean;
}

/**
 * Refuses, before any byte of credentials leaves, a channel the organization does not allow:
 * IMAP and SMTP share the rule. Every login sends credentials, so a server without TLS needs both
 * settings.
 */
export function assertChannelAllowed(endpoint: { host: string; port: number; security: Security }, policy: ChannelPolicy): void {
  if (endpoint.security !== 'none') return;
  if (!policy.allowNonTlsServers) {
    throw new ClassifiedError('insecure_channel_refused',
      `${endpoint.host}:${endpoint.port} is configured without TLS and organization.allowNonTlsServers is off`);
  }
  if (!policy.allowCredentialsOverInsecureChannel) {
    throw new ClassifiedError('insecure_channel_refused',
      `credentials would cross ${endpoint.host}:${endpoint.port} unencrypted and organization.allowCredentialsOverInsecureChannel is off`);
  }
}

/** The profile's CA file; an unreadable one makes the profile unusable, not the server. */
export function readCa(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new ClassifiedError('profile_invalid', `cannot read the profile's caFile ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}
