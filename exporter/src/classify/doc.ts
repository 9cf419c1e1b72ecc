import { TAXONOMY, type TaxonomyEntry } from './taxonomy.js';

const SCOPE: Record<TaxonomyEntry['scope'], string> = {
  server: 'server',
  mailbox: 'mailbox',
  credential_source: 'server for profile or service-account credentials, mailbox for its own',
};
const RETRY: Record<TaxonomyEntry['retry'], string> = {
  never: 'never (a person fixes it, then Test & Enable)',
  interval: 'after `retry.intervalSeconds`',
  server_hint: 'after the server\'s suggested delay (capped), else the interval',
};

/** docs/taxonomy.md, generated from TAXONOMY so the two cannot drift (a test compares them). */
export function renderTaxonomyDoc(): string {
  const rows = (level: TaxonomyEntry['level']) => TAXONOMY.filter((e) => e.level === level).map((e: TaxonomyEntry) =>
    `| \`${e.code}\` | ${e.class} | ${SCOPE[e.scope]} | ${RETRY[e.retry]} | ${e.documentedAlert} | [runbook](../alerts/runbook.md#${e.runbook}) | ${e.summary} |`);
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
  cause, run Test & Enable (\`mailsync mailboxes test-enable ID\`).
- **transient**: the next attempt waits (see "retried"); the failure after the last of
  \`organization.retry.maxTransientRetries\` retries (10 by default: the 11th in a row) disables the
  direction with the same code. A success resets the count.

Approving a mailbox (\`mailsync mailboxes approve ID\`) re-enables directions disabled for
\`email_address_not_approved\` or \`admin_approval_required\` without a Test & Enable.

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
