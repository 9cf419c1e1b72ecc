import type { Request } from 'express';
import { TAXONOMY } from '@mailsync/contract';
import { OperationError } from '../mailboxes/operation-error.js';
import type { FailureRecords } from '../records/index.js';
import { failuresRequest } from '../records/query.js';
import type { ItemFailureRecord } from '../store/index.js';
import { html, raw, type SafeHtml } from './html.js';

const ITEM_CODES = TAXONOMY.filter((t) => t.level === 'item').map((t) => t.code);

/**
 * "Incoming Emails Failed To Sync": item-level failures of the fleet, newest first, filtered by
 * code, mailbox and time, paged by the records API's cursor. Returns the status to answer with
 * (400 for a filter that does not validate, said on the page).
 */
export async function failuresPage(failures: FailureRecords, req: Request): Promise<{ status: number; body: SafeHtml }> {
  // An empty field of the page's own form means "any", not an invalid value.
  const query = Object.fromEntries(Object.entries(req.query).filter(([, v]) => v !== ''));
  const form = (q: Record<string, unknown>) => html`<form method="get" action="failures">
<select name="code" aria-label="code"><option value="">any code</option>${ITEM_CODES.map((c) => html`<option${c === q.code ? raw(' selected') : ''}>${c}</option>`)}</select>
<input type="search" name="mailbox" value="${typeof q.mailbox === 'string' ? q.mailbox : ''}" placeholder="mailbox id" aria-label="mailbox">
<input type="text" name="since" value="${typeof q.since === 'string' ? q.since : ''}" placeholder="since (2026-12-01T00:00:00Z)" aria-label="since">
<button type="submit">Filter</button></form>`;
  const title = html`<h1>Incoming emails failed to sync</h1>`;
  let page;
  try {
    const { filter, cursor, limit, mailbox } = failuresRequest(query, true);
    page = await failures.list(mailbox, filter, cursor, Math.min(limit, 100));
  } catch (error) {
    if (!(error instanceof OperationError)) throw error;
    return { status: error.status, body: html`${title}${form(query)}<p class="notice" role="alert">${error.message}</p>` };
  }
  const next = !page.more || page.next === null ? '' : html`<p><a href="failures?${new URLSearchParams({ ...(query as Record<string, string>), cursor: page.next }).toString()}">older failures</a></p>`;
  return {
    status: 200,
    body: html`${title}${form(query)}
${page.items.length === 0 ? html`<p>None.</p>` : failureTable(page.items, '', true)}${next}`,
  };
}

/** The table both the failures page and a mailbox's page show; `prefix` reaches /mailboxes from the page. */
export function failureTable(rows: ItemFailureRecord[], prefix: string, withMailbox: boolean): SafeHtml {
  return html`<table><tr>${withMailbox ? html`<th>mailbox</th>` : ''}<th>subject</th><th>Message-ID</th><th>folder</th><th>UID</th><th>code</th><th>detail</th><th>count</th><th>first seen</th><th>last seen</th></tr>
${rows.map((f) => html`<tr>${withMailbox ? html`<td><a href="${prefix}mailboxes/${encodeURIComponent(f.mailboxId)}">${f.mailboxId}</a></td>` : ''}<td>${f.subject ?? '-'}</td><td><code>${f.messageId ?? '-'}</code></td><td>${f.folder}</td><td>${f.uid}</td>
<td><code>${f.code}</code></td><td>${f.detail}</td><td>${f.count}</td><td>${time(f.firstSeenAt)}</td><td>${time(f.lastSeenAt)}</td></tr>`)}</table>`;
}

function time(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}
