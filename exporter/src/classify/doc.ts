import { TAXONOMY, type TaxonomyEntry } from './taxonomy.js';

const SCOPE: Record<TaxonomyEntry['scope'], string> = {
  server: 'server',
  mailbox: 'mailbox',
  credential_source: 'server for profile or service-account credentials, mailbox for its own',
};
const RETRY: Record<Exclude<TaxonomyEntry['retry'], 'never'>, string> = {
  interval: 'after `retry.intervalSeconds`',
  server_hint: 'after the server\'s suggested delay (capped), else the interval',
};
/** A code that is never retried says what brings the direction back instead (`reenabledBy`). */
const NEVER: Record<TaxonomyEntry['reenabledBy'], string> = {
  test_enable: 'never (a person fixes it, then Test & Enable)',
  approval: 'never; approving the address re-enables it (no Test & Enable needed)',
  not_disabled: 'never (this item only; the mailbox goes on)',
};
const retried = (e: TaxonomyEntry) => (e.retry === 'never' ? NEVER[e.reenabledBy] : RETRY[e.retry]);

/** docs/taxonomy.md, generated from TAXONOMY so the two cannot drift (a test compares them). */
export function renderTaxonomyDoc(): string {
  const rows = (level: TaxonomyEntry['level']) => TAXONOMY.filter((e) => e.level === level).map((e: TaxonomyEntry) =>
    `| \`${e.code}\` | ${e.class} | ${SCOPE[e.scope]} | ${retried(e)} | ${e.documentedAlert} | [runbook](../alerts/runbook.md#${e.runbook}) | ${e.summary} |`);
  const head = '| code | class | scope | retried | documented alert | runbook | what happened |\n|---|---|---|---|---|---|---|';
  return `<!-- Generated from contract/src/taxonomy.ts by \`npm run docs:taxonomy\`; do not edit by hand. -->
# Error taxonomy

Every failure mailsync records carries one of these codes. The table in
\`contract/src/taxonomy.ts\` is the source; \`classifyError\` maps real errors (imapflow flags
and response codes, SMTP replies, Node socket/TLS/DNS codes, hosted providers' texts) onto it, and
anything it does not recognise becomes \`internal_error\` and is logged with the raw error so the
rules can learn it.

What the class does (the documented policy):
- **permanent**: the direction is disabled at once with the code; the alert pages. After fixing the
  cause, run Test & Enable (\`mailsync mailboxes test-enable ID\`), except for the approval codes below.
- **transient**: the next attempt waits (see "retried"); the failure after the last of
  \`organization.retry.maxTransientRetries\` retries (10 by default: the 11th in a row) disables the
  direction with the same code. A success resets the count.

Approving a mailbox (\`mailsync mailboxes approve ID\`) re-enables directions disabled for
${TAXONOMY.filter((e) => e.reenabledBy === 'approval').map((e) => `\`${e.code}\``).join(' or ')} without a Test & Enable:
the missing approval was the cause, and approving is the fix.

Each failure's message (in the store, the API, the status page and the logs) names the protocol
and command and quotes the server's reply once, without the IMAP tag or the library's own words:
\`IMAP AUTHENTICATE PLAIN: server said NO [AUTHENTICATIONFAILED] Authentication failed.\`,
\`SMTP AUTH PLAIN: server said 535 5.7.8 Error: authentication failed\`. The error as the library
raised it is in the debug log (\`log.level: debug\`).

The scope says whose problem it is: **server** failures are also recorded against the profile
(its owner is told, and the share of its mailboxes failing within an hour is known), **mailbox**
failures only against the mailbox.

## Mailbox-level codes

${head}
${rows('mailbox').join('\n')}

## Item-level codes

One email failed; the mailbox keeps working. These are recorded per item (\`item_failure\`) and
counted, never used to disable a mailbox.

${head}
${rows('item').join('\n')}
`;
}
