import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FILTER_DECISION_CODES, TAXONOMY } from '@mailsync/contract';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderRuleFiles } from './generate.js';
import { ALERTS, runbookUrl } from './rules.js';

const alertsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const rulesDir = path.join(alertsDir, 'rules');
const testsDir = path.join(alertsDir, 'tests');
const runbook = readFileSync(path.join(alertsDir, 'runbook.md'), 'utf8');

interface Rule { alert: string; expr: string; labels: Record<string, string>; annotations: Record<string, string>; for: string }
const rules: Rule[] = readdirSync(rulesDir).flatMap((f) =>
  (parse(readFileSync(path.join(rulesDir, f), 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules));

/** Anchors GitHub gives the runbook: heading slugs and explicit <a id>. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const m of markdown.matchAll(/^#{1,6} (.+)$/gm)) {
    out.add((m[1] as string).toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-'));
  }
  for (const m of markdown.matchAll(/<a id="([^"]+)"><\/a>/g)) out.add(m[1] as string);
  return out;
}

/** Whether a selector's `code` matchers in `expr` (on `metric`) accept `code`. */
function selectorAccepts(expr: string, metric: string, code: string): boolean {
  const selector = new RegExp(`${metric}\\{([^}]*)\\}`).exec(expr)?.[1];
  if (selector === undefined) return false;
  return [...selector.matchAll(/code\s*(=~|!~|!=|=)\s*"([^"]*)"/g)].every(([, op, value]) => {
    const full = new RegExp(`^(?:${value})$`).test(code);
    return op === '=' ? code === value : op === '!=' ? code !== value : op === '=~' ? full : !full;
  });
}

describe('alert rules', () => {
  it('are what alerts/src generates (run `npm run alerts:generate` after editing it)', () => {
    for (const [name, text] of Object.entries(renderRuleFiles())) {
      expect(readFileSync(path.join(rulesDir, name), 'utf8'), name).toBe(text);
    }
  });

  it('pass promtool check rules', () => {
    const files = readdirSync(rulesDir).map((f) => path.join(rulesDir, f));
    expect(() => execFileSync('promtool', ['check', 'rules', ...files], { stdio: 'pipe' })).not.toThrow();
  });

  it('pass their promtool unit tests', () => {
    const files = readdirSync(testsDir).map((f) => path.join(testsDir, f));
    const out = (() => {
      try {
        return execFileSync('promtool', ['test', 'rules', ...files], { encoding: 'utf8', stdio: 'pipe' });
      } catch (error) {
        const e = error as { stdout: string; stderr: string };
        throw new Error(`promtool test rules failed:\n${e.stdout}${e.stderr}`);
      }
    })();
    expect(out).not.toContain('FAILED');
  });

  it('follow the conventions: severity, summary, description, runbook_url, explicit for', () => {
    for (const r of rules) {
      expect(r.alert, 'PascalCase with the Mailsync prefix').toMatch(/^Mailsync[A-Z][A-Za-z]+$/);
      expect(['critical', 'warning', 'info']).toContain(r.labels.severity);
      expect(r.annotations.summary?.length, r.alert).toBeGreaterThan(10);
      expect(r.annotations.description?.length, r.alert).toBeGreaterThan(20);
      expect(r.annotations.runbook_url).toBe(runbookUrl(r.alert));
      expect(r.for, r.alert).toMatch(/^\d+[smh]$/);
    }
    expect(rules.map((r) => r.alert).sort()).toEqual(ALERTS.map((a) => a.name).sort());
  });
});

describe('taxonomy, alerts, tests and runbook agree', () => {
  it('every permanent code has an alert, mailbox-level on disables and item-level on item failures', () => {
    const decisions: readonly string[] = FILTER_DECISION_CODES;
    for (const e of TAXONOMY.filter((t) => t.class === 'permanent')) {
      const metric = e.level === 'item' ? 'mailsync_mailbox_items_failed_total' : 'mailsync_mailbox_disabled';
      const alerting = rules.filter((r) => selectorAccepts(r.expr, metric, e.code)).map((r) => r.alert);
      if (decisions.includes(e.code)) {
        // The incoming filter's decisions are listed, never alerted on.
        expect(alerting, e.code).toEqual([]);
        continue;
      }
      expect(alerting.length, `no alert for ${e.code}`).toBeGreaterThan(0);
      if (e.level === 'mailbox') {
        // Exactly one alert per disable, and it pages.
        expect(alerting, e.code).toHaveLength(1);
        expect(rules.find((r) => r.alert === alerting[0])?.labels.severity).toBe('critical');
      }
    }
  });

  it('every transient code that can disable a mailbox is caught by a disable alert', () => {
    for (const e of TAXONOMY.filter((t) => t.class === 'transient' && t.level === 'mailbox')) {
      expect(rules.filter((r) => selectorAccepts(r.expr, 'mailsync_mailbox_disabled', e.code)).length, e.code).toBe(1);
    }
  });

  it('every alert has a promtool test with a negative and a firing case', () => {
    const cases = new Map<string, { quiet: boolean; firing: boolean }>();
    for (const f of readdirSync(testsDir)) {
      const doc = parse(readFileSync(path.join(testsDir, f), 'utf8')) as { tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[] };
      for (const t of doc.tests.flatMap((x) => x.alert_rule_test)) {
        const c = cases.get(t.alertname) ?? { quiet: false, firing: false };
        if (t.exp_alerts.length === 0) c.quiet = true;
        else c.firing = true;
        cases.set(t.alertname, c);
      }
    }
    for (const r of rules) expect(cases.get(r.alert), r.alert).toEqual({ quiet: true, firing: true });
  });

  it('every alert has a runbook section, and every runbook link of the alerts and the taxonomy resolves', () => {
    const ids = anchors(runbook);
    for (const r of rules) {
      expect(runbook, r.alert).toContain(`\n## ${r.alert}\n`);
      expect(ids.has(new URL(r.annotations.runbook_url as string).hash.slice(1)), r.alert).toBe(true);
    }
    for (const e of TAXONOMY) expect(ids.has(e.runbook), `runbook anchor ${e.runbook}`).toBe(true);
    // And the runbook's own links to sections.
    for (const m of runbook.matchAll(/\]\(#([^)]+)\)/g)) expect(ids.has(m[1] as string), m[1]).toBe(true);
  });
});

describe('Alertmanager example', () => {
  const config = path.join(alertsDir, 'alertmanager.yml');
  const route = (...labels: string[]) =>
    execFileSync('amtool', ['config', 'routes', 'test', `--config.file=${config}`, ...labels], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

  it('passes amtool check-config', () => {
    expect(execFileSync('amtool', ['check-config', config], { encoding: 'utf8' })).toContain('SUCCESS');
  });

  it.each([
    ['a disabled mailbox pages', ['severity=critical', 'alertname=MailsyncMailboxCredentialsRejected', 'mailbox=m-cred', 'code=credentials_rejected'], 'page'],
    ['a runner down pages', ['severity=critical', 'alertname=MailsyncExporterDown'], 'page'],
    ['a warning opens a ticket', ['severity=warning', 'alertname=MailsyncMailboxRetryBudgetBurning'], 'ticket'],
    ['the profile owner hears about a failing profile, and a ticket is opened', ['severity=warning', 'notify=owner', 'alertname=MailsyncProfileMailboxesFailing', 'owner=ops@example.com'], 'profile-owner,ticket'],
    ['info goes nowhere', ['severity=info', 'alertname=MailsyncItemsFailing'], 'blackhole'],
  ])('%s', (_name, labels, receiver) => {
    expect(route(...labels)).toBe(receiver);
  });
});
