/**
 * The error taxonomy: one row per code. Everything else (the classifier, the retry policy, the
 * alert rules, the runbook, docs/taxonomy.md, the panel's runbook links) is checked against this
 * table, so a code is added here first.
 */
export type ErrorClass = 'permanent' | 'transient';
export type Scope = 'server' | 'mailbox';
export type Level = 'mailbox' | 'item';

/**
 * How the scope is decided: fixed, or by where the rejected credentials came from (the profile's
 * or a service account's → the server, since every mailbox of the profile is affected; the
 * mailbox's own → that mailbox).
 */
export type ScopeRule = Scope | 'credential_source';

/**
 * `interval`: next attempt after the organization's retry interval. `server_hint`: after the
 * delay the server suggested (capped), else the interval. `never`: permanent, a person fixes it.
 */
export type RetryRule = 'interval' | 'server_hint' | 'never';

/**
 * What brings a direction disabled with this code back. `test_enable`: a person fixes the cause,
 * then Test & Enable. `approval`: approving the address re-enables it by itself (the approval
 * was the missing thing; Test & Enable is not needed). `not_disabled`: item-level, the mailbox
 * was never disabled.
 */
export type ReenableRule = 'test_enable' | 'approval' | 'not_disabled';

export interface TaxonomyEntry {
  code: string;
  class: ErrorClass;
  scope: ScopeRule;
  level: Level;
  /** The documented alert of the product this code belongs to, in its own words (short). */
  documentedAlert: string;
  /** Anchor of the section in alerts/runbook.md (the code itself, so links survive reordering). */
  runbook: string;
  retry: RetryRule;
  reenabledBy: ReenableRule;
  /** One line for operators: what happened. */
  summary: string;
}

const row = (
  code: string, cls: ErrorClass, scope: ScopeRule, level: Level, retry: RetryRule, documentedAlert: string, summary: string,
  reenabledBy: ReenableRule = level === 'item' ? 'not_disabled' : 'test_enable',
): TaxonomyEntry => ({ code, class: cls, scope, level, retry, documentedAlert, runbook: code, reenabledBy, summary });

export const TAXONOMY = [
  row('secure_connection_failed', 'permanent', 'server', 'mailbox', 'never', 'Error establishing a secure connection',
    'TLS to the server failed: handshake error, untrusted, expired or wrong-name certificate, or STARTTLS not offered.'),
  row('credentials_rejected', 'permanent', 'credential_source', 'mailbox', 'never', 'Credentials are incorrect or have insufficient permissions',
    'The server rejected the username or password (the profile\'s, the service account\'s or the mailbox\'s own).'),
  row('insufficient_permissions', 'permanent', 'credential_source', 'mailbox', 'never', 'Credentials are incorrect or have insufficient permissions',
    'The login worked but may not act for this mailbox (no impersonation right, send-as denied, protocol disabled for the user).'),
  row('email_address_not_approved', 'permanent', 'mailbox', 'mailbox', 'never', 'Email addresses must be approved',
    'The organization processes mail only for approved mailboxes and this one is not approved; it was not contacted.', 'approval'),
  row('admin_approval_required', 'permanent', 'mailbox', 'mailbox', 'never', 'Email address requires approval by an administrator',
    'The profile authenticates with trusted (impersonation) credentials; an admin must approve each address.', 'approval'),
  // A: OAuth2. A rejected grant (invalid_grant, invalid_client, a revoked refresh token) is
  // credentials_rejected and a token endpoint down is connect_failed/server_unavailable, as for a
  // mail server; only the missing consent is new: no mailsync approval fixes it (not 'approval').
  row('oauth_consent_required', 'permanent', 'credential_source', 'mailbox', 'never', 'Email address requires approval by an administrator',
    'The OAuth2 application has not been granted the mail permission: an administrator of the provider must consent (Microsoft AADSTS65001, Google domain-wide delegation).'),
  row('mailbox_location_unknown', 'permanent', 'mailbox', 'mailbox', 'never', 'Mailbox location could not be determined',
    'Autodiscover found no server for the address (no DNS SRV record, no autoconfig document).'),
  row('insecure_channel_refused', 'permanent', 'server', 'mailbox', 'never', 'Can\'t set user name and password: secure mode required',
    'Credentials would cross a channel without TLS and the organization does not allow it; nothing was sent.'),
  row('configured_in_another_org', 'permanent', 'mailbox', 'mailbox', 'never', 'Mailbox configured with another organization',
    'Another mailsync deployment marked this mailbox as its own; Test & Enable with "this organization only" takes it over.'),
  row('profile_invalid', 'permanent', 'server', 'mailbox', 'never', 'Mailbox disabled for synchronization',
    'The email server profile cannot be used as configured (for example a CA file that cannot be read).'),
  row('mailbox_not_found', 'permanent', 'mailbox', 'mailbox', 'never', 'Mailbox disabled for synchronization',
    'A folder configured for the mailbox does not exist on the server.'),
  row('connect_failed', 'transient', 'server', 'mailbox', 'interval', 'Temporary failure: connect failure',
    'No connection to the server: refused, unreachable or timed out.'),
  row('dns_failed', 'transient', 'server', 'mailbox', 'interval', 'Temporary failure: connect failure',
    'The server name did not resolve.'),
  row('server_unavailable', 'transient', 'server', 'mailbox', 'interval', 'Temporary failure: service unavailable',
    'The server is busy, said goodbye, or dropped the connection mid-command.'),
  row('provider_throttled', 'transient', 'mailbox', 'mailbox', 'server_hint', 'Provider sending/receiving limits',
    'The provider throttled this mailbox; the next attempt waits for the delay it suggested.'),
  row('sending_limit_exceeded', 'transient', 'mailbox', 'mailbox', 'server_hint', 'Provider sending/receiving limits',
    'The provider\'s sending quota (messages per minute, recipients per day) is used up; email waits as Pending Send.'),
  row('protocol_error', 'transient', 'server', 'mailbox', 'interval', 'Temporary failure: service unavailable',
    'The server answered something the protocol does not allow.'),
  row('internal_error', 'transient', 'mailbox', 'mailbox', 'interval', 'Mailbox disabled for synchronization',
    'An error mailsync does not recognise yet; the raw error is logged so it can be classified.'),
  row('send_rejected', 'permanent', 'mailbox', 'item', 'never', 'Email stays Pending Send',
    'The outgoing server refused one email or one recipient; that email failed, the mailbox keeps sending.'),
  row('item_parse_failed', 'permanent', 'mailbox', 'item', 'never', 'Incoming emails failed to sync',
    'A message could not be parsed; its raw bytes are kept.'),
  row('item_too_large', 'permanent', 'mailbox', 'item', 'never', 'Incoming emails failed to sync',
    'A message is larger than sync.maxMessageBytes and was not downloaded.'),
  // D (records API, failures view): the incoming filter's item-level records; the feed/filter work writes them.
  row('no_correlation_match', 'permanent', 'mailbox', 'item', 'never', 'Incoming emails failed to sync',
    'The mailbox\'s incoming filter is `responses` and the email answers nothing mailsync sent; it is stored but not published.'),
  row('no_recipient_match', 'permanent', 'mailbox', 'item', 'never', 'Incoming emails failed to sync',
    'The mailbox\'s incoming filter is `known-senders` and the sender is not among its known addresses; it is stored but not published.'),
  row('appointment_organizer_missing', 'permanent', 'mailbox', 'item', 'never', 'Appointments can\'t be synchronized: organizer missing',
    'An appointment has attendees but no ORGANIZER: it is not pushed to the server, and one pulled that way is not synchronized.'),
  // C: appointments, contacts and tasks written back to the server.
  row('act_item_conflict', 'permanent', 'mailbox', 'item', 'never', 'Appointments, contacts and tasks failed to sync',
    'A change made through mailsync met a newer version on the server (HTTP 412): the server\'s version is kept, the local change waits for an operator.'),
  row('act_item_rejected', 'permanent', 'mailbox', 'item', 'never', 'Appointments, contacts and tasks failed to sync',
    'The server refused one appointment, contact or task written through mailsync; that item failed, the mailbox keeps syncing.'),
] as const satisfies readonly TaxonomyEntry[];

export type ErrorCode = (typeof TAXONOMY)[number]['code'];

/**
 * Item codes that record the incoming filter's decision, not a failure: the email is stored and
 * listed in the failures view (as the product lists NoCorrelationMatch), but no alert fires for
 * it, since a `responses` mailbox keeps out ordinary mail all day by design.
 */
export const FILTER_DECISION_CODES = ['no_correlation_match', 'no_recipient_match'] as const satisfies readonly ErrorCode[];
