/**
 * The per-mailbox incoming filter (config: mailboxes[].incoming.filter): which stored emails are
 * published to the change feed and webhooks. Filtering never drops mail: an email filtered out is
 * stored all the same and gets an item-level record saying why, so the failures view explains it.
 */
import { FILTER_DECISION_CODES } from '@mailsync/contract';

export const INCOMING_FILTERS = ['all', 'responses', 'known-senders'] as const;
export type IncomingFilterMode = (typeof INCOMING_FILTERS)[number];

/** The product's NoCorrelationMatch and NoRecipientMatch: the contract's filter decision codes. */
export const [NO_CORRELATION_MATCH, NO_RECIPIENT_MATCH] = FILTER_DECISION_CODES;

export interface IncomingFilter {
  mode: IncomingFilterMode;
  /** Lower-case addresses `known-senders` accepts (the mailbox's synced contacts join them once ACT exists). */
  knownSenders: readonly string[];
}

/** What the decision looks at in one email. */
export interface FilterInput {
  /** The From addresses, lower-case. */
  from: readonly string[];
  /** Message-IDs named by In-Reply-To and References. */
  referenced: readonly string[];
}

export type FilterDecision = { publish: true } | { publish: false; code: string; detail: string };

/**
 * `sentByUs` answers whether a Message-ID is one of the outgoing queue's: the caller looks them up
 * in the store beforehand, so this stays a pure function.
 */
export function decideIncomingFilter(filter: IncomingFilter, email: FilterInput, sentByUs: (messageId: string) => boolean): FilterDecision {
  switch (filter.mode) {
    case 'all':
      return { publish: true };
    case 'responses':
      if (email.referenced.some(sentByUs)) return { publish: true };
      return {
        publish: false, code: NO_CORRELATION_MATCH,
        detail: email.referenced.length === 0
          ? 'not a reply: no In-Reply-To or References header (incoming.filter is "responses")'
          : `none of the ${email.referenced.length} Message-IDs it replies to was sent by mailsync (incoming.filter is "responses")`,
      };
    case 'known-senders': {
      const known = new Set(filter.knownSenders);
      if (email.from.some((a) => known.has(a))) return { publish: true };
      return {
        publish: false, code: NO_RECIPIENT_MATCH,
        detail: `sender ${email.from.join(', ') || '(none)'} is not among the known senders (incoming.filter is "known-senders")`,
      };
    }
  }
}
