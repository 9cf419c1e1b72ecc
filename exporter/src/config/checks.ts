import { plaintextCredentialsAllowed } from './oauth2.js';
import type { RawConfig } from './schema.js';
import type { Mailbox, Profile } from './types.js';
import { SPECIAL_USE } from '../protocols/folder-names.js';

// Checks of the config loader (load.ts) that read one part of the config and report problems or warnings.

/** Hosts whose traffic never leaves the machine: nothing on a network path can rewrite their answer. */
const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/**
 * An autoconfig document carries no credentials, but it names the server they are sent to: over
 * plain http anyone on the path can point every autodiscovered mailbox at a server of their own
 * (with a valid certificate for it). So an http URL needs what a server without TLS needs, both
 * organization settings, unless it is on loopback. Refused at load, not warned about: a
 * warning scrolls by, and the next login would already go wherever the forged document said.
 */
export function plaintextAutoconfigProblems(raw: RawConfig): string[] {
  if (plaintextCredentialsAllowed(raw.organization)) return [];
  return raw.autodiscover.autoconfigUrls.flatMap((url, i) => {
    const host = /^http:\/\/(\[[^\]]*\]|[^/:?#]*)/.exec(url)?.[1];
    if (host === undefined || LOOPBACK.test(host)) return [];
    return [`autodiscover.autoconfigUrls[${i}]: "${url}" is plain http, which decides where credentials go; use https, or set`
      + ' organization.allowNonTlsServers and organization.allowCredentialsOverInsecureChannel (loopback hosts are exempt)'];
  });
}

/**
 * An operator's approval does not count for a trusted (impersonation) profile when the
 * organization requires an admin's: allowed, but the mailbox will be disabled with
 * admin_approval_required, so say so once per declaring key.
 */
export function warnWeakApprovals(mailboxes: Mailbox[], byId: Map<string, Profile>, organization: RawConfig['organization'], warnings: string[]): void {
  if (!organization.requireAdminApprovalForTrustedProfiles) return;
  const keys = new Set<string>();
  for (const m of mailboxes) {
    const profile = byId.get(m.profile);
    if (m.approval?.role === 'operator' && profile?.auth.mode === 'impersonation') keys.add(m.approval.declaredAt);
  }
  for (const key of keys) warnings.push(`${key}.role: "operator" does not approve a mailbox of a trusted (impersonation) profile; it needs "admin"`);
}

export const MIN_TOKEN_LENGTH = 16;

/** `showValue` is false for secrets: the problem names the entries, never the value. */
export function reportDuplicates(values: string[], list: string, key: string, problems: string[], showValue = true): void {
  const seen = new Map<string, number>();
  values.forEach((value, i) => {
    const first = seen.get(value);
    if (first === undefined) seen.set(value, i);
    else problems.push(`${list}[${i}].${key}: ${showValue ? `"${value}" ` : ''}is already used by ${list}[${first}]`);
  });
}

/** A folder name starting with a backslash must be an RFC 6154 special-use name. */
export function specialUseProblem(folder: string): string | undefined {
  if (!folder.startsWith('\\')) return undefined;
  if (SPECIAL_USE.some((u) => u.toLowerCase() === folder.toLowerCase())) return undefined;
  return `"${folder}" is no RFC 6154 special-use name (one of ${SPECIAL_USE.join(', ')})`;
}
