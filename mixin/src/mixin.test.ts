/**
 * The mixin as jsonnet users render it (Debian's `jsonnet`, `jsonnetfmt`; promtool): with its
 * defaults it is the committed rules and dashboards, and each kind of `_config` field it offers
 * changes the output exactly as the TypeScript builders do with the same value.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ALERT_CONFIG } from '../../alerts/src/config.js';
import { ruleFiles } from '../../alerts/src/rules.js';
import { DASHBOARD_CONFIG } from '../../dashboards/src/config.js';
import { DASHBOARDS } from '../../dashboards/src/dashboards.js';
import { renderMixin } from './render.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const mixinDir = path.join(root, 'mixin');
const work = mkdtempSync(path.join(tmpdir(), 'mailsync-mixin-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Group { name: string; rules: { alert: string; expr: string; for: string; annotations: Record<string, string> }[] }
interface Rendered { prometheusAlerts: { groups: Group[] }; prometheusRules: { groups: Group[] }; grafanaDashboards: Record<string, Record<string, unknown>> }

/** The mixin, with `overrides` (jsonnet) merged into `_config`, rendered to JSON by jsonnet. */
function render(overrides = ''): Rendered {
  const code = `local m = (import 'mixin.libsonnet') + { _config+:: { ${overrides} } };
    { prometheusAlerts: m.prometheusAlerts, prometheusRules: m.prometheusRules, grafanaDashboards: m.grafanaDashboards }`;
  try {
    return JSON.parse(execFileSync('jsonnet', ['-J', mixinDir, '-e', code], { encoding: 'utf8', stdio: 'pipe' })) as Rendered;
  } catch (error) {
    throw new Error(`jsonnet failed:\n${(error as { stderr: string }).stderr}`);
  }
}
const byName = (groups: Group[]) => Object.fromEntries(groups.map((g) => [g.name, g]));
const committedGroups = readdirSync(path.join(root, 'alerts/rules')).flatMap((f) => (parse(readFileSync(path.join(root, 'alerts/rules', f), 'utf8')) as { groups: Group[] }).groups);
const asData = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

describe('the mixin with its defaults', () => {
  const out = render();

  it('has the alerts of alerts/rules, group by group, as data', () => {
    expect(out.prometheusAlerts.groups.map((g) => g.name).sort()).toEqual(committedGroups.map((g) => g.name).sort());
    expect(byName(out.prometheusAlerts.groups)).toEqual(byName(committedGroups));
  });

  it('has no recording rules, as alerts/src has none', () => {
    expect(out.prometheusRules).toEqual({ groups: [] });
  });

  it('has the dashboards of dashboards/generated, as data', () => {
    const files = readdirSync(path.join(root, 'dashboards/generated')).filter((f) => f.endsWith('.json')).sort();
    expect(Object.keys(out.grafanaDashboards).sort()).toEqual(files);
    for (const f of files) expect(out.grafanaDashboards[f], f).toEqual(JSON.parse(readFileSync(path.join(root, 'dashboards/generated', f), 'utf8')));
  });

  it('is formatted as jsonnetfmt formats it', () => {
    const files = Object.keys(renderMixin()).map((f) => path.join(mixinDir, f));
    expect(() => execFileSync('jsonnetfmt', ['--test', ...files], { stdio: 'pipe' })).not.toThrow();
  });
});

describe('the mixin with _config overridden', () => {
  const selector = 'job="mail-prod", cluster="eu1"';
  const out = render(`mailsyncSelector: '${selector}', notSyncingSeconds: 7200, testEnableLongSeconds: 1800,
    runbookURL: 'https://wiki.example/mailsync', mailboxDashboardUid: 'mail-box', performanceDashboardUid: 'mail-perf'`);
  const alerts = out.prometheusAlerts.groups.flatMap((g) => g.rules);
  const perf = out.grafanaDashboards['mailsync-performance.json'] as { uid: string; panels: { options?: { mailboxLinkTemplate?: string; longTestMinutes?: number } }[] };
  const mailbox = out.grafanaDashboards['mailsync-mailbox.json'] as { uid: string; links: { url: string }[] };

  it('is what the TypeScript builders make of the same values', () => {
    const alertConfig = { ...ALERT_CONFIG, selector, notSyncingSeconds: 7200, testEnableLongSeconds: 1800, runbookUrlPattern: 'https://wiki.example/mailsync#%s' };
    expect(byName(out.prometheusAlerts.groups)).toEqual(byName(Object.values(ruleFiles(alertConfig)).flatMap((f) => f.groups) as Group[]));
    const dashboardConfig = { ...DASHBOARD_CONFIG, selector, runbookUrl: 'https://wiki.example/mailsync', runbookUrlPattern: 'https://wiki.example/mailsync#%s', mailboxUid: 'mail-box', performanceUid: 'mail-perf', testEnableLongMinutes: 30 };
    for (const [f, build] of Object.entries(DASHBOARDS)) expect(out.grafanaDashboards[f], f).toEqual(asData(build(dashboardConfig)));
  });

  it('selects the given jobs in every rule, with the given thresholds', () => {
    for (const r of alerts) expect(r.expr, r.alert).not.toContain('mailsync.*');
    expect(alerts.find((r) => r.alert === 'MailsyncExporterDown')?.expr).toBe(`up{${selector}} == 0`);
    expect(alerts.find((r) => r.alert === 'MailsyncMailboxNotSyncing')?.expr).toContain('> 7200)');
    expect(alerts.find((r) => r.alert === 'MailsyncMailboxTestEnableTakingLong')?.expr).toMatch(/> 1800$/);
    expect(perf.panels.find((p) => p.options?.longTestMinutes !== undefined)?.options?.longTestMinutes).toBe(30);
  });

  it('links every alert to the moved runbook, and the dashboards to their new uids', () => {
    for (const r of alerts) expect(r.annotations.runbook_url).toBe(`https://wiki.example/mailsync#${r.alert.toLowerCase()}`);
    expect([perf.uid, mailbox.uid]).toEqual(['mail-perf', 'mail-box']);
    expect(JSON.stringify(perf)).toContain('/d/mail-box/');
    expect(JSON.stringify(perf)).not.toContain('/d/mailsync-mailbox/');
    expect(mailbox.links.map((l) => l.url)).toContain('/d/mail-perf/mailsync-server-side-synchronization-performance');
  });

  it('renders rules promtool accepts', () => {
    const file = path.join(work, 'alerts.yaml');
    const yaml = execFileSync('jsonnet', ['-J', mixinDir, '-S', '-e',
      `std.manifestYamlDoc(((import 'mixin.libsonnet') + { _config+:: { mailsyncSelector: '${selector}' } }).prometheusAlerts)`], { encoding: 'utf8' });
    writeFileSync(file, yaml);
    expect(() => execFileSync('promtool', ['check', 'rules', file], { stdio: 'pipe' })).not.toThrow();
  });
});

describe('runbookURLPattern on its own', () => {
  const out = render("runbookURLPattern: 'https://runbooks.example/mailsync/%s.html'");

  it('moves the alerts\' and the codes\' links, not the runbook page', () => {
    const rules = out.prometheusAlerts.groups.flatMap((g) => g.rules);
    for (const r of rules) expect(r.annotations.runbook_url).toBe(`https://runbooks.example/mailsync/${r.alert.toLowerCase()}.html`);
    const mailbox = JSON.stringify(out.grafanaDashboards['mailsync-mailbox.json']);
    expect(mailbox).toContain('https://runbooks.example/mailsync/${__value.raw}.html');
    expect(mailbox).toContain(`"url":"${DASHBOARD_CONFIG.runbookUrl}"`);
  });
});
