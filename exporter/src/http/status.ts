import express, { type Request, type Router } from 'express';
import type { Clock } from '../clock.js';
import type { Config } from '../config/index.js';
import type { MailboxOperations } from '../mailboxes/operations.js';
import { DIRECTIONS, fleetViews, matches, OWNERSHIP_UNSUPPORTED, type MailboxFilter, type MailboxView } from '../mailboxes/view.js';
import { HEALTH_BUCKETS, isLongTestEnable, type Health } from '../policy/health.js';
import type { Store, SyncRun } from '../store/index.js';
import { html, raw, type SafeHtml } from './html.js';
import { STATUS_CSS } from './status-style.js';
import { FailureRecords } from '../records/index.js';
import { failuresPage, failureTable } from './status-failures.js';

export interface StatusDeps {
  config: () => Config;
  store: Store;
  clock: Clock;
  operations: MailboxOperations;
  /** The item failures (records/failures.ts): the failures page, and each mailbox's table. */
  itemFailures?: FailureRecords;
}

const PAGE_SIZE = 100;
const RECENT_RUNS = 20;
const KEPT_FAILURES = 100;

const STYLE = raw(`<style>${STATUS_CSS}</style>`);

const LABELS: Record<Health, string> = {
  healthy: 'healthy and running',
  failing: 'with continuous errors that need your attention',
  intermittent: 'having intermittent processing issues',
  inactive: 'no longer processing or not enabled yet',
  testing: 'with Test & Enable scheduled or running',
};

/**
 * The status page: server-rendered HTML, no JavaScript. The summary is the product's dashboard
 * summary; every number links to the mailboxes behind it; a mailbox shows its status, its alert
 * records and its runs, failures kept longer than successes.
 */
export function createStatusPages(given: StatusDeps): Router {
  const deps = { ...given, itemFailures: given.itemFailures ?? new FailureRecords(given.store, given.config) };
  const router = express.Router();
  // Relative links keep working behind a reverse proxy that serves mailsync under a path prefix.
  router.get('/', async (_req, res) => {
    res.type('html').send(page('mailsync', await summary(deps), '').value);
  });
  router.get('/mailboxes', async (req, res) => {
    res.type('html').send(page('Mailboxes · mailsync', await mailboxList(deps, req), '../').value);
  });
  router.get('/failures', async (req, res) => {
    const { status, body } = await failuresPage(deps.itemFailures, req);
    res.status(status).type('html').send(page('Failed items · mailsync', body, '').value);
  });
  router.get('/mailboxes/:id', async (req, res) => {
    const id = String(req.params.id);
    if (!deps.config().mailboxes.some((m) => m.id === id)) {
      res.status(404).type('html').send(page('Not found · mailsync', html`<p>No mailbox <code>${id}</code>.</p>`, '../').value);
      return;
    }
    res.type('html').send(page(`${id} · mailsync`, await mailboxPage(deps, id), '../').value);
  });
  return router;
}

function page(title: string, body: SafeHtml, base: string): SafeHtml {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${title}</title>${STYLE}</head><body>
<nav><a href="${base}./">Summary</a><a href="${base}mailboxes">Mailboxes</a><a href="${base}failures">Failed items</a><a href="${base}metrics">Metrics</a><a href="${base}-/healthy">Health</a><a href="${base}-/ready">Readiness</a></nav>
${body}</body></html>`;
}

async function summary(deps: StatusDeps): Promise<SafeHtml> {
  const config = deps.config();
  const now = deps.clock.now();
  const views = await fleetViews(config, deps.store, now);
  const count = (h: Health) => views.filter((v) => v.health === h).length;
  const longMs = config.metrics.longTestEnableSeconds * 1_000;
  const long = views.filter((v) => isLongTestEnable(v.testEnable, now, longMs)).length;
  const warnings = count('intermittent') + count('inactive') + count('testing');
  const link = (h: Health) => html`<a class="n ${h}" href="mailboxes?health=${h}">${count(h)}</a>`;
  const disabled = views.filter((v) => DIRECTIONS.some((d) => v.directions[d].disabled?.code));
  const failingByProfile = config.profiles.map((p) => {
    const mine = views.filter((v) => v.profile === p.id);
    return { p, total: mine.length, failing: mine.filter((v) => v.health === 'failing').length };
  });
  return html`<h1>Server-side synchronization</h1>
<p><a class="n" href="mailboxes">${views.length}</a> mailboxes are configured for server-side synchronization.</p>
<ul class="summary">
<li>${link('healthy')} ${LABELS.healthy}</li>
<li>${link('failing')} ${LABELS.failing}</li>
<li><span class="n warning">${warnings}</span> running with warnings:<ul>
  <li>${link('intermittent')} ${LABELS.intermittent}</li>
  <li>${link('inactive')} ${LABELS.inactive}</li>
  <li>${link('testing')} ${LABELS.testing}, <a class="testing" href="mailboxes?health=testing&amp;long=1">${long}</a> of them taking over ${minutes(longMs)}</li>
</ul></li></ul>
<h2>System-disabled mailboxes</h2>
${disabled.length === 0 ? html`<p>None.</p>` : mailboxTable(disabled, './')}
<h2>Profiles</h2>
<table><tr><th>profile</th><th>owner</th><th>mailboxes</th><th>failing</th></tr>
${failingByProfile.map(({ p, total, failing }) => html`<tr><td><a href="mailboxes?profile=${p.id}">${p.id}</a></td><td>${p.owner ?? '-'}</td><td>${total}</td><td class="${failing > 0 ? 'failing' : ''}">${failing}</td></tr>`)}
</table>`;
}

async function mailboxList(deps: StatusDeps, req: Request): Promise<SafeHtml> {
  const q = req.query;
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const health = HEALTH_BUCKETS.find((h) => h === str(q.health));
  const state = str(q.state) === 'enabled' || str(q.state) === 'disabled' ? (str(q.state) as 'enabled' | 'disabled') : undefined;
  const filter: MailboxFilter = { health, state, profile: str(q.profile), q: str(q.q)?.slice(0, 200) };
  const config = deps.config();
  const now = deps.clock.now();
  const longOnly = str(q.long) === '1';
  const longMs = config.metrics.longTestEnableSeconds * 1_000;
  const all = (await fleetViews(config, deps.store, now)).filter((v) => matches(v, filter) && (!longOnly || isLongTestEnable(v.testEnable, now, longMs)));
  const pageNo = Math.max(1, Number.parseInt(str(q.page) ?? '1', 10) || 1);
  const shown = all.slice((pageNo - 1) * PAGE_SIZE, pageNo * PAGE_SIZE);
  const params = (p: number) => new URLSearchParams({ ...Object.fromEntries(Object.entries({ ...filter, long: longOnly ? '1' : undefined }).filter(([, v]) => v !== undefined) as [string, string][]), page: String(p) }).toString();
  const pages = Math.max(1, Math.ceil(all.length / PAGE_SIZE));
  return html`<h1>Mailboxes${health ? html` <span class="${health}">${LABELS[health]}</span>` : ''}</h1>
<form method="get" action="mailboxes">
<input type="search" name="q" value="${filter.q ?? ''}" placeholder="id or address" aria-label="search">
<select name="health" aria-label="health"><option value="">any health</option>${HEALTH_BUCKETS.map((h) => html`<option value="${h}"${h === health ? raw(' selected') : ''}>${h}</option>`)}</select>
<select name="profile" aria-label="profile"><option value="">any profile</option>${config.profiles.map((p) => html`<option${p.id === filter.profile ? raw(' selected') : ''}>${p.id}</option>`)}</select>
<button type="submit">Filter</button></form>
<p>${all.length} mailboxes${pages > 1 ? html`, page ${pageNo} of ${pages}` : ''}.
${pageNo > 1 ? html`<a href="mailboxes?${params(pageNo - 1)}">previous</a>` : ''} ${pageNo < pages ? html`<a href="mailboxes?${params(pageNo + 1)}">next</a>` : ''}</p>
${mailboxTable(shown, '')}`;
}

function mailboxTable(views: MailboxView[], prefix: string): SafeHtml {
  const row = (v: MailboxView) => {
    const i = v.directions.incoming;
    // The page of the mailbox says why; the list only has to make it findable.
    const mark = v.ownership === 'unsupported' ? html` <span class="mark" title="${OWNERSHIP_UNSUPPORTED}">no ownership mark</span>` : '';
    return html`<tr><td><a href="${prefix}mailboxes/${encodeURIComponent(v.id)}">${v.id}</a>${mark}</td><td>${v.address}</td><td>${v.profile}</td>
<td class="${v.health}">${v.health}</td><td>${directionState(i)}</td><td>${directionState(v.directions.act)}</td><td>${i.lastError ? html`<code>${i.lastError.code}</code>` : '-'}</td><td>${time(i.lastSuccessAt)}</td></tr>`;
  };
  return html`<table><tr><th>mailbox</th><th>address</th><th>profile</th><th>health</th><th>incoming</th><th>ACT</th><th>last error</th><th>last success</th></tr>
${views.map(row)}</table>`;
}

async function mailboxPage(deps: Required<StatusDeps>, id: string): Promise<SafeHtml> {
  const m = await deps.operations.show(id);
  const recent = await deps.store.runs.listRuns(id, RECENT_RUNS);
  const failures = await deps.store.runs.listRuns(id, KEPT_FAILURES, 'failure');
  const items = await deps.itemFailures.list(id, {}, undefined, KEPT_FAILURES);
  return html`<h1>${m.id} <small>&lt;${m.address}&gt;</small></h1>
<p>Profile <a href="../mailboxes?profile=${m.profile}">${m.profile}</a> · health <span class="${m.health}">${m.health}</span> ·
approval ${m.approval.state}${m.approval.by ? html` (by ${m.approval.by})` : ''} · Test &amp; Enable ${m.testEnable.state}${m.testEnable.requestedAt ? html` (requested ${time(m.testEnable.requestedAt)})` : ''}</p>
${m.warnings.map((w) => html`<p class="notice" role="status"><strong>Warning:</strong> ${w}</p>`)}
<table><tr><th>direction</th><th>state</th><th>last run</th><th>last success</th><th>last error</th><th>failures in a row</th><th>retries left</th><th>next attempt</th><th>items</th></tr>
${DIRECTIONS.filter((d) => m.directions[d].configured).map((d) => {
    const v = m.directions[d];
    return html`<tr><td>${d}</td><td>${directionState(v)}${v.disabled?.reason ? html`<br><small>${v.disabled.reason}</small>` : ''}</td><td>${v.status}</td><td>${time(v.lastSuccessAt)}</td>
<td>${v.lastError ? html`<code>${v.lastError.code}</code> ${v.lastError.class ?? ''} ${v.lastError.scope ?? ''}<br><small>${v.lastError.message ?? ''}</small>` : '-'}</td>
<td>${v.consecutiveFailures}</td><td>${v.retriesLeft}</td><td>${time(v.nextAttemptAt)}</td><td>${v.itemsProcessedTotal} (${v.itemsFailedTotal} failed)</td></tr>`;
  })}</table>
<h2>Alert records</h2>
${m.alerts.length === 0 ? html`<p>None.</p>` : html`<table><tr><th>direction</th><th>code</th><th>class</th><th>scope</th><th>count</th><th>first seen</th><th>last seen</th><th>last message</th></tr>
${m.alerts.map((a) => html`<tr><td>${a.direction}</td><td><code>${a.code}</code></td><td>${a.class}</td><td>${a.scope}</td><td>${a.count}</td><td>${time(a.firstSeenAt)}</td><td>${time(a.lastSeenAt)}</td><td>${a.message}</td></tr>`)}</table>`}
<h2>Recent runs</h2>${runTable(recent)}
<h2>Failed runs (the last ${KEPT_FAILURES} are kept)</h2>${failures.length === 0 ? html`<p>None.</p>` : runTable(failures)}
<h2>Item failures</h2>
${items.items.length === 0 ? html`<p>None.</p>` : html`${failureTable(items.items, '../', false)}${items.more ? html`<p><a href="../failures?mailbox=${encodeURIComponent(id)}">all of them</a></p>` : ''}`}`;
}

function runTable(runs: SyncRun[]): SafeHtml {
  return html`<table><tr><th>started</th><th>direction</th><th>result</th><th>items</th><th>error</th></tr>
${runs.map((r) => html`<tr><td>${time(r.startedAt)}</td><td>${r.direction}</td><td class="${r.result === 'failure' ? 'failing' : ''}">${r.result ?? 'running'}</td>
<td>${r.itemsProcessed}</td><td>${r.errorCode ? html`<code>${r.errorCode}</code> <small>${r.errorMessage ?? ''}</small>` : ''}</td></tr>`)}</table>`;
}

function directionState(v: MailboxView['directions']['incoming']): SafeHtml | string {
  if (!v.configured) return '-';
  if (!v.disabled) return 'enabled';
  return v.disabled.code ? html`<span class="failing">disabled: <code>${v.disabled.code}</code></span>` : html`disabled by ${v.disabled.by ?? 'an operator'}`;
}

function time(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function minutes(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000} min` : `${ms / 1_000} s`;
}
