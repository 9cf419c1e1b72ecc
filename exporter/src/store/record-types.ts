import type { ItemFailure, StoredEmail } from './types.js';

/**
 * A page of a mailbox's stored emails, in storage order (ascending id): mail that arrives while a
 * consumer pages is appended after what it has seen. Text filters match case-insensitively as
 * substrings; `receivedSince`/`receivedUntil` are epoch ms of when mailsync stored the email.
 */
export interface EmailQuery {
  mailboxId: string;
  folder?: string;
  receivedSince?: number;
  receivedUntil?: number;
  from?: string;
  subjectContains?: string;
  hasAttachments?: boolean;
  /** Keyset paging: only emails with a larger id. */
  afterId?: number;
  limit: number;
}

export interface EmailRecord extends StoredEmail {
  /** null for an email stored before ingest looked for attachments and not parsed since. */
  hasAttachments: boolean | null;
  /** Folders it is in now or was seen in (any UIDVALIDITY), sorted. */
  folders: string[];
}

/** Item failures, newest record first (descending id); mailboxId absent for the whole fleet. */
export interface ItemFailureQuery {
  mailboxId?: string;
  code?: string;
  direction?: string;
  /** Last seen at or after / before, epoch ms. */
  since?: number;
  until?: number;
  /** Keyset paging: only records with a smaller id. */
  beforeId?: number;
  limit: number;
}

export interface ItemFailureRecord extends ItemFailure {
  id: number;
  subject: string | null;
  messageId: string | null;
}
